/**
 * The dispatcher's console in headless Chromium, on the real chain: a sealed hit published over
 * mosquitto (mutual TLS) reaches the page live with its plate crop and overview, the read beside
 * the listed entry with its sealed fields opened, and why it matched; "misread" with a reason
 * goes back to the device as an ack signed by dispatch (checked here with the device's verifier)
 * and shows as done.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDispatch, type RunningDispatch } from '../../dispatch/main.ts';
import { ACK_TYP, verifySigned } from '../../gateway/delivery/envelope.ts';
import { parseDispatchKey, sealPersonal } from '../../gateway/hotlist/seal.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from '../unit/dispatch/fixtures.ts';

const AGENCY = 'test-pd';

async function jpeg(width: number, height: number, text: string): Promise<string> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#f4f1e8"/><text x="50%" y="60%" font-size="${Math.round(height / 2)}" text-anchor="middle" font-family="sans-serif" fill="#123">${text}</text></svg>`;
  return (await sharp(Buffer.from(svg)).jpeg({ quality: 80 }).toBuffer()).toString('base64');
}

describe('dispatch console in Chromium', () => {
  let pki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let broker: Mosquitto;
  let dispatch: RunningDispatch;
  let device: MqttClient;
  let browser: Browser;
  let dataDir: string;
  const acks: Record<string, unknown>[] = [];

  beforeAll(async () => {
    pki = await createTestPki('Test Agency CA');
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    const crl = await pki.crl();
    // mosquitto started as root drops to its own user, which must be able to read its files.
    await chmod(pki.dir, 0o755);
    await chmod(certs.broker.keyFile, 0o644);
    broker = await startMosquitto({ tls: { cafile: pki.caCertFile, certfile: certs.broker.certFile, keyfile: certs.broker.keyFile } });
    dataDir = await mkdtemp(join(tmpdir(), 'dispatch-e2e-'));
    dispatch = await startDispatch({
      mqttUrl: broker.url,
      tls: { ca: pki.caCertPem, cert: certs.dispatch.certPem, key: certs.dispatch.keyPem },
      agency: AGENCY,
      trustAnchorsPem: pki.caCertPem,
      crl: () => crl,
      decryptionKeyPem: certs.encryption.keyPem,
      signingKeyPem: certs.dispatch.keyPem,
      signingChainPem: certs.dispatch.certPem,
      dataDir,
      httpPort: 0,
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    });
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: pki.caCertPem, cert: pole1.certPem, key: pole1.keyPem });
    const anchors = [new X509Certificate(pki.caCertPem)];
    device.on('message', (_topic, payload) => {
      void verifySigned(payload.toString(), ACK_TYP, anchors, 'dispatch', Date.now()).then((p) => acks.push(p as Record<string, unknown>));
    });
    await device.subscribeAsync(`alpr/v1/${AGENCY}/pole-1/acks`, { qos: 1 });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await device?.endAsync();
    await dispatch?.stop();
    await broker?.stop();
    await pki?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('shows a hit live with its images, entry and reason, and sends "misread" back to the device', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(dispatch.console.url);
      await page.getByText('live').waitFor({ timeout: 15_000 });
      await expect(page.locator('[data-testid=hit]').count()).resolves.toBe(0);
      // The pole's status reaches the page live.
      await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, JSON.stringify({ state: 'online', device: 'pole-1', at: Date.now(), outbox: { depth: 2, oldestAgeMs: 9_000 } }), { qos: 1 });
      await expect.poll(() => page.locator('[data-device=pole-1]').innerText().catch(() => ''), { timeout: 10_000 }).toMatch(/pole-1 online · 2 waiting to send/);

      const encCert = new X509Certificate(certs.encryption.certPem);
      const dispatchKey = await parseDispatchKey(encCert.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const entryId = 'stolen-vehicle:7ABC123';
      const sealed = await sealPersonal(dispatchKey, entryId, { entered_by: 'Ofc. R. Diaz #4471', case_number: '26-004512', synopsis: 'Grey Camry taken from Lot C overnight', ncic_number: 'V123456789' });
      const msg = makeHit('pole-1', AGENCY, Date.now(), {
        plate: '7ABC128',
        images: { plate: await jpeg(240, 80, '7ABC128'), overview: await jpeg(640, 360, 'overview') },
        match: {
          entryId, listId: 'ncic', listVersion: 'v42', kind: 'ocr-equivalent', distance: 0,
          substitutions: [{ position: 6, read: '8', listed: '3', op: 'lookalike' }],
          listType: 'stolen-vehicle', priority: 90, listedPlate: '7ABC123', listedState: 'ca', covert: false, sealed,
          explanation: "look-alike match on 7ABC123 (CA): '8' read for look-alike '3' at 6",
        },
      });
      await device.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(msg, pole1, certs.encryption), { qos: 1 });

      const card = page.locator(`[data-testid=hit][data-hit-id="${msg.hitId}"]`);
      await card.waitFor({ timeout: 20_000 });
      await expect(card.getAttribute('data-state')).resolves.toBe('alert');
      // Both images loaded (decoded by the browser, not just present).
      for (const id of ['plate-image', 'overview-image']) {
        const decoded = (): Promise<boolean> => card.getByTestId(id).evaluate((el: unknown) => {
          const img = el as { complete: boolean; naturalWidth: number };
          return img.complete && img.naturalWidth > 0;
        });
        await expect.poll(decoded, { timeout: 10_000 }).toBe(true);
      }
      await expect(card.locator('[data-testid=read-plate]').innerText()).resolves.toContain('7ABC128');
      await expect(card.locator('[data-testid=listed-plate]').innerText()).resolves.toContain('7ABC123');
      const fields = await card.locator('[data-testid=sealed-fields]').innerText();
      expect(fields).toContain('Ofc. R. Diaz #4471');
      expect(fields).toContain('26-004512');
      expect(fields).toContain('Grey Camry taken from Lot C overnight');
      await expect(card.locator('[data-testid=why]').innerText()).resolves.toMatch(/look-alike match on 7ABC123[\s\S]*read 8, listed 3/);
      const where = await card.locator('.where').innerText();
      expect(where).toContain('north');
      expect(where).toContain('Main St & 5th');
      // The age ticks.
      const age1 = await card.locator('.age').innerText();
      await expect.poll(() => card.locator('.age').innerText(), { timeout: 5_000 }).not.toBe(age1);

      await until(() => acks.some((a) => a['hitId'] === msg.hitId), 'the receipt ack');
      // No reason, no disposition: the page says so and sends nothing.
      await page.getByTestId('dispatcher').fill('Dispatcher Kim');
      await card.locator('textarea[name=reason]').fill('   ');
      await card.getByRole('button', { name: 'Misread' }).click();
      await expect(card.locator('.err').innerText()).resolves.toMatch(/reason/i);

      await card.locator('textarea[name=reason]').fill('crop shows 7ABC128, last character is an 8');
      await card.getByRole('button', { name: 'Misread' }).click();
      await page.locator(`[data-hit-id="${msg.hitId}"][data-state=misread]`).waitFor({ timeout: 10_000 });
      const done = page.locator(`[data-hit-id="${msg.hitId}"]`);
      await expect(done.locator('[data-testid=disposition]').innerText()).resolves.toMatch(/Misread by Dispatcher Kim .*crop shows 7ABC128/);
      await expect(done.locator('[data-testid=actions]').count()).resolves.toBe(0);

      await until(() => acks.some((a) => a['hitId'] === msg.hitId && a['disposition'] === 'misread'), 'the misread ack at the device');
      expect(acks.filter((a) => a['hitId'] === msg.hitId && a['disposition'])).toEqual([
        expect.objectContaining({ hitId: msg.hitId, device: 'pole-1', disposition: 'misread', reason: 'crop shows 7ABC128, last character is an 8', by: 'Dispatcher Kim', at: expect.any(Number) }),
      ]);
      expect(dispatch.receiver.get(msg.hitId)?.dispositions).toHaveLength(1);

      // A reload renders the closed hit from the server the same way.
      await page.reload();
      await page.locator(`[data-hit-id="${msg.hitId}"][data-state=misread]`).waitFor({ timeout: 10_000 });
    } finally {
      await page.close();
    }
  }, 120_000);
});
