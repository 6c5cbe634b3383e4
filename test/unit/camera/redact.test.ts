import { describe, expect, it } from 'vitest';
import { redactorFor, redactUrls } from '../../../drivers/camera/redact.ts';

describe('redactUrls', () => {
  it('masks the password and keeps user, host, port and path', () => {
    expect(redactUrls('rtsp://admin:hunter2@10.0.0.7:554/Streaming/Channels/101')).toBe('rtsp://admin:***@10.0.0.7:554/Streaming/Channels/101');
  });

  it('masks passwords that hold @, : and percent-escapes', () => {
    expect(redactUrls('rtsp://admin:p@ss:w0rd@cam.local/live')).toBe('rtsp://admin:***@cam.local/live');
    expect(redactUrls('rtsp://admin:s3cr%40t%21@cam.local/live')).toBe('rtsp://admin:***@cam.local/live');
  });

  it('masks every URL in an ffmpeg error line, and any scheme', () => {
    const line = "[rtsp @ 0x55] rtsp://u:one@a/x: Server returned 401 Unauthorized; retry rtsps://v:two@b:322/y and http://w:three@c/";
    const out = redactUrls(line);
    expect(out).not.toMatch(/one|two|three/);
    expect(out).toContain('rtsp://u:***@a/x');
    expect(out).toContain('rtsps://v:***@b:322/y');
    expect(out).toContain('http://w:***@c/');
  });

  it('leaves URLs without a password alone', () => {
    for (const s of ['rtsp://10.0.0.7/live', 'rtsp://viewer@10.0.0.7/live', '/var/clips/a.mp4', 'time=00:00:01.00']) {
      expect(redactUrls(s)).toBe(s);
    }
  });
});

describe('redactorFor', () => {
  it('also masks the literal password, raw and decoded, wherever ffmpeg prints it', () => {
    const redact = redactorFor('rtsp://admin:s3cr%40t!@cam/live');
    expect(redact('auth failed for password s3cr@t! and s3cr%40t!')).toBe('auth failed for password *** and ***');
    expect(redact('rtsp://admin:s3cr%40t!@cam/live: 401')).toBe('rtsp://admin:***@cam/live: 401');
  });

  it('does not mask common words for a very short password (the URL rule still applies)', () => {
    const redact = redactorFor('rtsp://a:in@cam/live');
    expect(redact('Input #0, rtsp, from rtsp://a:in@cam/live')).toBe('Input #0, rtsp, from rtsp://a:***@cam/live');
  });

  it('is the identity for a URL without credentials', () => {
    expect(redactorFor('/clips/x.mp4')('anything at all')).toBe('anything at all');
  });
});
