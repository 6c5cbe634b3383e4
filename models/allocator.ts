/**
 * The memory allocator the gateway runs on (issue #4). Debian's jemalloc (`libjemalloc2`),
 * preloaded, hands freed memory back to the system a couple of seconds after it stops being
 * used, where glibc's malloc keeps its heap's high-water mark resident. That lets the recogniser
 * run ONNX Runtime without its memory arena, which otherwise keeps the largest detector pass's
 * activations (the 960 retry over a 1080p frame, ~60 MB) resident for good. Camera bench: RSS
 * 291–332 MB on jemalloc without the arena, against 356–374 MB on glibc with it, for ~0.8× the
 * frames analysed per second (docs/camera.md).
 *
 * A preload must be in place before the process starts, so this is applied by whoever starts
 * the gateway: the boot shim for the application it launches, the bench runner for itself.
 *
 * `ALPR_ALLOCATOR`: `jemalloc` (required: an error when the library is missing), `glibc` (never
 * preload), or unset (jemalloc when installed, else glibc). On glibc, `MALLOC_ARENA_MAX=1` (one
 * malloc arena instead of one per thread) is set unless given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';

/**
 * jemalloc's tuning for the gateway, unless MALLOC_CONF is given: one arena (a 2-core unit; each
 * thread still has its own cache); large buffers kept with the others instead of in a separate
 * arena that gives them back at once (the detector's 10–35 MB tensors would be faulted in again on
 * every pass); unused pages returned after ~2 s by a background thread, and at once rather than
 * lazily (pages given back lazily still count as resident until the kernel wants them).
 */
export const JEMALLOC_CONF = 'narenas:1,oversize_threshold:0,dirty_decay_ms:2000,muzzy_decay_ms:0,background_thread:true';

const LIBRARY = 'libjemalloc.so.2';

/** Debian's multiarch library folders for this machine, most specific first. */
export function libraryDirs(machine: string = arch()): string[] {
  const triplet = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', arm: 'arm-linux-gnueabihf' }[machine];
  return [...(triplet ? [`/usr/lib/${triplet}`] : []), '/usr/lib', '/usr/local/lib'];
}

/** The path of the installed jemalloc library, or undefined. */
export function findJemalloc(dirs: readonly string[] = libraryDirs()): string | undefined {
  return dirs.map((d) => `${d}/${LIBRARY}`).find((p) => existsSync(p));
}

export class AllocatorError extends Error {
  override readonly name = 'AllocatorError';
}

/**
 * The environment to start the gateway (or a bench) with: `env` plus the allocator's settings.
 * An LD_PRELOAD already naming jemalloc is kept as it is; one naming something else keeps its
 * libraries after jemalloc. Settings the caller gave (MALLOC_CONF, MALLOC_ARENA_MAX) win.
 * `jemalloc`: the library's path, null when it is not installed (default: looked for).
 */
export function allocatorEnv(env: NodeJS.ProcessEnv, jemalloc: string | null = findJemalloc() ?? null): NodeJS.ProcessEnv {
  const choice = env.ALPR_ALLOCATOR ?? '';
  if (!['', 'jemalloc', 'glibc'].includes(choice)) {
    throw new AllocatorError(`ALPR_ALLOCATOR: expected "jemalloc" or "glibc" (or unset for jemalloc when installed), got "${choice}"`);
  }
  const preload = env.LD_PRELOAD ?? '';
  const preloaded = preload.split(/[\s:]+/).some((p) => p.includes('jemalloc'));
  if (choice === 'jemalloc' && !preloaded && jemalloc === null) {
    throw new AllocatorError(`ALPR_ALLOCATOR=jemalloc but ${LIBRARY} is not installed (looked in ${libraryDirs().join(', ')}; Debian package libjemalloc2)`);
  }
  if (choice !== 'glibc' && (preloaded || jemalloc !== null)) {
    return {
      ...env,
      ...(!preloaded && { LD_PRELOAD: [jemalloc, preload].filter(Boolean).join(':') }),
      MALLOC_CONF: env.MALLOC_CONF ?? JEMALLOC_CONF,
    };
  }
  return { ...env, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '1' };
}

/** Whether this process runs on jemalloc (its library is mapped), from /proc/self/maps. */
export function onJemalloc(maps = '/proc/self/maps'): boolean {
  try {
    return readFileSync(maps, 'utf8').includes(LIBRARY);
  } catch {
    return false; // not Linux: no preload either
  }
}
