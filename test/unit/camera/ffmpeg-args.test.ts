import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, isNetworkUrl, parseOutputVideoSize } from '../../../drivers/camera/ffmpeg-args.ts';

/** The value that follows `flag` in args. */
function valueOf(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

describe('buildFfmpegArgs', () => {
  it('puts a hardware decoder preset before -i and leaves the rest alone', () => {
    for (const [preset, decoder] of [['rpi', 'h264_v4l2m2m'], ['jetson', 'h264_nvmpi']] as const) {
      const args = buildFfmpegArgs({ url: 'rtsp://cam/live', fps: 4, preset });
      expect(valueOf(args, '-c:v')).toBe(decoder);
      expect(args.indexOf('-c:v')).toBeLessThan(args.indexOf('-i'));
      expect(valueOf(args, '-pix_fmt')).toBe('yuv420p');
    }
    expect(buildFfmpegArgs({ url: 'rtsp://cam/live', fps: 4 })).not.toContain('-c:v');
  });

  it('reads RTSP over TCP, all input options before -i', () => {
    const args = buildFfmpegArgs({ url: 'rtsp://u:p@cam/live', fps: 4 });
    const input = args.indexOf('-i');
    expect(args[input + 1]).toBe('rtsp://u:p@cam/live');
    expect(valueOf(args, '-rtsp_transport')).toBe('tcp');
    expect(args.indexOf('-rtsp_transport')).toBeLessThan(input);
    // -timeout means "listen as a server" in ffmpeg 4's RTSP demuxer: never pass it.
    expect(args).not.toContain('-timeout');
    expect(args).not.toContain('-re');
    expect(args).not.toContain('-stream_loop');
  });

  it('plays a file in real time and looped only when asked', () => {
    const plain = buildFfmpegArgs({ url: '/clips/a.mp4', fps: 10 });
    expect(plain).not.toContain('-re');
    expect(plain).not.toContain('-stream_loop');
    expect(plain).not.toContain('-rtsp_transport');
    const live = buildFfmpegArgs({ url: '/clips/a.mp4', fps: 10, realtime: true, loop: true });
    expect(live.indexOf('-re')).toBeLessThan(live.indexOf('-i'));
    expect(valueOf(live, '-stream_loop')).toBe('-1');
    expect(live.indexOf('-stream_loop')).toBeLessThan(live.indexOf('-i'));
  });

  it('decodes to raw I420 (yuv420p) on stdout at the configured rate, scaled only when asked', () => {
    const native = buildFfmpegArgs({ url: 'rtsp://cam/live', fps: 4 });
    expect(valueOf(native, '-vf')).toBe('fps=4');
    expect(valueOf(native, '-pix_fmt')).toBe('yuv420p');
    expect(valueOf(native, '-f')).toBe('rawvideo');
    expect(native[native.length - 1]).toBe('pipe:1');
    expect(native).toContain('-an');
    expect(valueOf(buildFfmpegArgs({ url: 'x.mp4', fps: 5, width: 640 }), '-vf')).toBe('fps=5,scale=640:-2');
    expect(valueOf(buildFfmpegArgs({ url: 'x.mp4', fps: 5, width: 640, height: 360 }), '-vf')).toBe('fps=5,scale=640:360');
  });

  it('keeps stdin open for the q stage of stop, and progress lines off stderr', () => {
    const args = buildFfmpegArgs({ url: 'rtsp://cam/live', fps: 4 });
    expect(args).not.toContain('-nostdin');
    expect(args).toContain('-nostats');
  });

  it('passes the URL as one argument, whatever it holds (no shell)', () => {
    const url = '/clips/a b;rm -rf $HOME.mp4';
    expect(buildFfmpegArgs({ url, fps: 1 })).toContain(url);
  });

  it('rejects a height without a width and a non-positive rate', () => {
    expect(() => buildFfmpegArgs({ url: 'x.mp4', fps: 5, height: 360 })).toThrow(RangeError);
    expect(() => buildFfmpegArgs({ url: 'x.mp4', fps: 0 })).toThrow(RangeError);
  });
});

describe('isNetworkUrl', () => {
  it('tells RTSP from files', () => {
    expect(isNetworkUrl('rtsp://cam/live')).toBe(true);
    expect(isNetworkUrl('RTSPS://cam/live')).toBe(true);
    expect(isNetworkUrl('/var/clips/rtsp.mp4')).toBe(false);
  });
});

describe('parseOutputVideoSize', () => {
  it('reads the size of the raw video stream from ffmpeg 5 and 6 banner lines', () => {
    expect(parseOutputVideoSize('  Stream #0:0: Video: rawvideo (I420 / 0x30323449), yuv420p(progressive), 1920x1080, q=2-31, 186624 kb/s, 8 fps, 8 tbn')).toEqual({
      width: 1920,
      height: 1080,
    });
    expect(
      parseOutputVideoSize('  Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(pc, gbr/unknown/unknown, progressive), 640x360, q=2-31, 27648 kb/s, 5 fps, 5 tbn (default)'),
    ).toEqual({ width: 640, height: 360 });
    expect(parseOutputVideoSize('  Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24(progressive), 1920x1080 [SAR 1:1 DAR 16:9], q=2-31, 200 kb/s, 4 fps')).toEqual({
      width: 1920,
      height: 1080,
    });
  });

  it('ignores the input stream and other lines', () => {
    expect(parseOutputVideoSize('  Stream #0:0[0x1](und): Video: h264 (Main) (avc1 / 0x31637661), yuv420p(progressive), 1280x720, 308 kb/s')).toBeUndefined();
    expect(parseOutputVideoSize('frame=  100 fps=0.0 q=-0.0 size=1280x720')).toBeUndefined();
  });
});
