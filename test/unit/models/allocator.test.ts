/** Which allocator the gateway starts on (models/allocator.ts), and how the recogniser can tell. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocatorEnv, AllocatorError, findJemalloc, JEMALLOC_CONF, libraryDirs, onJemalloc } from '../../../models/allocator.ts';

const LIB = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const dir = mkdtempSync(path.join(tmpdir(), 'allocator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('allocatorEnv', () => {
  it('preloads jemalloc with the gateway’s tuning when it is installed, keeping the rest of the environment', () => {
    const env = allocatorEnv({ PATH: '/bin', ALPR_DATA_DIR: '/data' }, LIB);
    expect(env).toEqual({ PATH: '/bin', ALPR_DATA_DIR: '/data', LD_PRELOAD: LIB, MALLOC_CONF: JEMALLOC_CONF });
  });

  it('keeps a preload and a MALLOC_CONF the caller gave', () => {
    expect(allocatorEnv({ LD_PRELOAD: '/opt/x.so', MALLOC_CONF: 'narenas:2' }, LIB)).toMatchObject({ LD_PRELOAD: `${LIB}:/opt/x.so`, MALLOC_CONF: 'narenas:2' });
    const already = allocatorEnv({ LD_PRELOAD: '/opt/libjemalloc.so.2' }, null);
    expect(already.LD_PRELOAD).toBe('/opt/libjemalloc.so.2');
    expect(already.MALLOC_CONF).toBe(JEMALLOC_CONF);
  });

  it('falls back to glibc with one malloc arena when jemalloc is not installed, or when told to', () => {
    expect(allocatorEnv({ PATH: '/bin' }, null)).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '1' });
    expect(allocatorEnv({ ALPR_ALLOCATOR: 'glibc', MALLOC_ARENA_MAX: '2' }, LIB)).toEqual({ ALPR_ALLOCATOR: 'glibc', MALLOC_ARENA_MAX: '2' });
  });

  it('refuses an unknown choice, and jemalloc required but missing, naming what is wrong', () => {
    expect(() => allocatorEnv({ ALPR_ALLOCATOR: 'mimalloc' }, LIB)).toThrow(AllocatorError);
    expect(() => allocatorEnv({ ALPR_ALLOCATOR: 'mimalloc' }, LIB)).toThrow(/ALPR_ALLOCATOR: expected "jemalloc" or "glibc".*got "mimalloc"/);
    expect(() => allocatorEnv({ ALPR_ALLOCATOR: 'jemalloc' }, null)).toThrow(/libjemalloc\.so\.2 is not installed.*libjemalloc2/);
    expect(allocatorEnv({ ALPR_ALLOCATOR: 'jemalloc' }, LIB).LD_PRELOAD).toBe(LIB);
  });
});

describe('finding and detecting jemalloc', () => {
  it('looks in the machine’s multiarch folder first', () => {
    expect(libraryDirs('x64')[0]).toBe('/usr/lib/x86_64-linux-gnu');
    expect(libraryDirs('arm64')[0]).toBe('/usr/lib/aarch64-linux-gnu');
    expect(libraryDirs('riscv64')).toEqual(['/usr/lib', '/usr/local/lib']);
  });

  it('finds the library in the first folder that has it', () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    expect(findJemalloc([a, b])).toBeUndefined();
    mkdirSync(b, { recursive: true });
    writeFileSync(path.join(b, 'libjemalloc.so.2'), '');
    expect(findJemalloc([a, b])).toBe(path.join(b, 'libjemalloc.so.2'));
  });

  it('tells from a process’s mapped files whether it runs on jemalloc', () => {
    const maps = path.join(dir, 'maps');
    writeFileSync(maps, `7f00-7f01 r-xp 00000000 08:01 1 ${LIB}\n7f02-7f03 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6\n`);
    expect(onJemalloc(maps)).toBe(true);
    writeFileSync(maps, '7f02-7f03 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libc.so.6\n');
    expect(onJemalloc(maps)).toBe(false);
    expect(onJemalloc(path.join(dir, 'absent'))).toBe(false);
  });
});
