/**
 * Production bundles: the gateway and its recogniser worker as plain JavaScript, so the pole runs
 * without transpiling TypeScript at run time (`node --import tsx` costs ~36 MB of resident memory
 * in the main thread and ~26 MB more in the worker, measured; and start-up time).
 *
 * `npm run build` writes `dist/`. Each source's `import.meta.url` is rewritten to the URL the
 * source file has in the tree (relative to the bundle), so the paths the code finds beside itself
 * — model packs, the common-password list, package resolution — are the same bundled or not; the
 * tree (and node_modules) stays beside `dist/`, as it is in the image and in a firmware slot.
 */
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');

/** The product's entry points: source → bundle name in dist/. */
export const ENTRIES: Readonly<Record<string, string>> = {
  'ota/firmware/boot.ts': 'boot',
  'gateway/main.ts': 'gateway',
  'models/worker.ts': 'recognizer-worker',
};
/** `--bench`: the benchmarks too, so they measure the product as it runs on the pole. */
const BENCH_ENTRIES: Readonly<Record<string, string>> = { 'bench/run.ts': 'bench' };

/**
 * Rewrites `import.meta.url` in each project source to that source's own URL (see above). The
 * build's own entry is its main module: its "am I the main module?" test (its URL against
 * argv[1]) is made true; any other source's stays false, as it is when imported from source.
 */
function sourceUrls(entry: string): Plugin {
  return {
    name: 'source-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.(ts|mts|mjs|js)$/ }, async (args) => {
        if (args.path.includes('/node_modules/') || args.path.startsWith(join(ROOT, 'build'))) return undefined;
        let text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        if (args.path === entry) text = text.replace(/import\.meta\.url === /g, 'true || ');
        const rel = relative(DIST, args.path).split('\\').join('/');
        const contents = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`);
        return { contents, loader: args.path.endsWith('ts') ? 'ts' : 'js' };
      });
    },
  };
}

export async function bundle(withBench = false): Promise<string[]> {
  const out: string[] = [];
  for (const [src, name] of Object.entries({ ...ENTRIES, ...(withBench ? BENCH_ENTRIES : {}) })) {
    const outfile = join(DIST, `${name}.mjs`);
    await build({
      entryPoints: [join(ROOT, src)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
      plugins: [sourceUrls(join(ROOT, src))],
      define: { ALPR_BUNDLE: 'true' },
      banner: { js: '// Built by build/bundle.ts from the TypeScript sources beside dist/; do not edit.' },
    });
    out.push(outfile);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const files = await bundle(process.argv.includes('--bench'));
  process.stdout.write(`${files.map((f) => relative(ROOT, f)).join('\n')}\n`);
}
