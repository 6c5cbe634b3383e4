/**
 * Writes a sample clip and prints its manifest (JSON) on stdout.
 *
 *   node --import tsx drivers/camera/sample-clip-cli.ts --out var/clip.mp4 [--seed 1]
 *        [--width 1280] [--height 720] [--fps 10] [--vehicles 6] [--seconds-per-vehicle 4]
 *        [--headway 3] [--plates 7ABC123:California,4XYZ987:Nevada]
 *
 * --plates fixes the plates (and so the number of vehicles); `PLATE` alone prints no state name.
 * The manifest is also written beside the clip as <out>.json.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateSampleClip } from './sample-clip.ts';
import type { SampleClipOptions, VehicleInput } from './sample-clip.ts';

const USAGE = 'usage: sample-clip-cli --out PATH [--seed N] [--width W] [--height H] [--fps F] [--vehicles N] [--seconds-per-vehicle S] [--headway S] [--plates P[:State],…]';

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${value}`);
  return n;
}

export function parsePlates(spec: string): VehicleInput[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [plate = '', stateName] = item.split(':');
      return stateName ? { plate: plate.toUpperCase(), stateName } : { plate: plate.toUpperCase() };
    });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      fps: { type: 'string' },
      vehicles: { type: 'string' },
      'seconds-per-vehicle': { type: 'string' },
      headway: { type: 'string' },
      plates: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.out) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const entries: [keyof SampleClipOptions, number | undefined][] = [
    ['seed', num('seed', values.seed)],
    ['width', num('width', values.width)],
    ['height', num('height', values.height)],
    ['fps', num('fps', values.fps)],
    ['vehicleCount', num('vehicles', values.vehicles)],
    ['secondsPerVehicle', num('seconds-per-vehicle', values['seconds-per-vehicle'])],
    ['headwaySec', num('headway', values.headway)],
  ];
  const opts: SampleClipOptions = {
    outPath: values.out,
    ...Object.fromEntries(entries.filter(([, v]) => v !== undefined)),
    ...(values.plates ? { vehicles: parsePlates(values.plates) } : {}),
  };
  const manifest = await generateSampleClip(opts);
  const json = JSON.stringify(manifest, null, 2);
  await writeFile(`${values.out}.json`, `${json}\n`);
  process.stdout.write(`${json}\n`);
  process.stderr.write(`wrote ${manifest.path}: ${manifest.frameCount} frames, ${manifest.durationSec} s, ${manifest.vehicles.length} vehicles in ${manifest.generationMs} ms\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sample-clip: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
