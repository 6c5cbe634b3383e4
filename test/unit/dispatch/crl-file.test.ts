import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crlFileSource } from '../../../dispatch/main.ts';

describe('crlFileSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crl-file-'));
  afterEach(() => rmSync(join(dir, 'crl.pem'), { force: true }));

  it('reads the file once per interval, again when it changed, and yields nothing once it is gone', () => {
    const path = join(dir, 'crl.pem');
    writeFileSync(path, 'first');
    let now = 1_000_000;
    const source = crlFileSource(path, 10_000, () => now);
    expect(source()).toBe('first');
    writeFileSync(path, 'second');
    utimesSync(path, new Date(), new Date(Date.now() + 5_000)); // a distinct mtime even on coarse clocks
    now += 5_000;
    expect(source()).toBe('first'); // within the interval: not looked at
    now += 5_000;
    expect(source()).toBe('second');
    unlinkSync(path);
    now += 10_000;
    expect(source()).toBeUndefined();
    writeFileSync(path, 'third');
    now += 10_000;
    expect(source()).toBe('third');
  });
});
