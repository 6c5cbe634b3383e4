/** Firmware bundles and slot inspection for the A/B tests. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { packBundle } from '../../ota/bundle.ts';
import { Slots } from '../../ota/firmware/slots.ts';

/** A firmware bundle of `version` with a few files (one big enough to take a moment to unpack). */
export async function makeFirmwareBundle(dir: string, version: string): Promise<string> {
  const src = path.join(dir, `fw-${version}`);
  await mkdir(path.join(src, 'app', 'lib'), { recursive: true });
  await writeFile(path.join(src, 'app', 'main.js'), `console.log('alpr gateway ${version}');\n`);
  await writeFile(path.join(src, 'app', 'VERSION'), `${version}\n`);
  await writeFile(path.join(src, 'app', 'lib', 'blob.bin'), Buffer.alloc(2 * 1024 * 1024, version.charCodeAt(version.length - 1)));
  const out = path.join(dir, `fw-${version}.bundle`);
  await packBundle(src, out, { kind: 'firmware', name: 'alpr-gateway', version });
  return out;
}

/** The version the device would boot now: the pointer's slot, which must be complete. */
export async function runningVersion(dataDir: string, factory = '1.0.0'): Promise<string> {
  const slots = new Slots(path.join(dataDir, 'ota', 'firmware'), factory);
  const p = await slots.active();
  if (p.slot === 'factory') return p.version;
  const header = await slots.intact(p.slot);
  if (!header) throw new Error(`pointer names slot ${p.slot} (${p.version}) but the slot is incomplete`);
  if (header.version !== p.version) throw new Error(`pointer says ${p.version}, slot ${p.slot} holds ${header.version}`);
  return p.version;
}
