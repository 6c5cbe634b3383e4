/**
 * The broker ACL docs/dispatch.md gives agencies, on a real mosquitto: the receiver still gets
 * hits through its shared subscription and can ack and command, while one pole cannot publish
 * under another's name (its status is unsigned, so the ACL is what keeps a pole from claiming
 * another's certificate serial) nor read another's acks.
 */
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../dispatch/receiver.ts';
import { ACK_TYP, verifySigned } from '../../gateway/delivery/envelope.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/pki.ts';
import { dispatchCerts, makeHit, seal, type DispatchCerts } from '../unit/dispatch/fixtures.ts';

const AGENCY = 'test-pd';

/** The ACL block of docs/dispatch.md, read from the document itself so the two cannot drift. */
async function documentedAcl(): Promise<string> {
  const doc = await readFile(new URL('../../docs/dispatch.md', import.meta.url), 'utf8');
  const block = /### The broker[\s\S]*?```\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/dispatch.md: no ACL block under "### The broker"');
  return block;
}

describe('the documented broker ACL', () => {
  let pki: TestPki;
  let certs: DispatchCerts;
  let pole1: IssuedCert;
  let pole2: IssuedCert;
  let broker: Mosquitto;
  let receiver: Receiver;
  let peer: Receiver;
  let dir: string;
  const clients: MqttClient[] = [];

  const connect = async (cert: IssuedCert): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: pki.caCertPem, cert: cert.certPem, key: cert.keyPem });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    pki = await createTestPki();
    certs = await dispatchCerts(pki);
    pole1 = await pki.issue('pole-1', { client: true });
    pole2 = await pki.issue('pole-2', { client: true });
    dir = await mkdtemp(join(tmpdir(), 'dispatch-acl-'));
    const aclFile = join(dir, 'acl');
    await writeFile(aclFile, await documentedAcl());
    // mosquitto started as root drops to its own user, which must be able to read its files.
    await chmod(dir, 0o755);
    await chmod(aclFile, 0o644);
    await chmod(pki.dir, 0o755);
    await chmod(certs.broker.keyFile, 0o644);
    broker = await startMosquitto({
      tls: { cafile: pki.caCertFile, certfile: certs.broker.certFile, keyfile: certs.broker.keyFile },
      extraConfig: ['use_identity_as_username true', `acl_file ${aclFile}`],
    });
    const start = (name: string): Promise<Receiver> => startReceiver({
      url: broker.url,
      tls: { ca: pki.caCertPem, cert: certs.dispatch.certPem, key: certs.dispatch.keyPem },
      agency: AGENCY,
      trustAnchorsPem: pki.caCertPem,
      decryptionKeyPem: certs.encryption.keyPem,
      signingKeyPem: certs.dispatch.keyPem,
      signingChainPem: certs.dispatch.certPem,
      dataDir: join(dir, name),
      log: pino({ level: 'silent' }),
    });
    receiver = await start('a');
    peer = await start('b');
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync();
    await receiver?.stop();
    await peer?.stop();
    await broker?.stop();
    await pki?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lets a pole deliver its own hits and hear its acks, and nothing under another pole', async () => {
    const p1 = await connect(pole1);
    const p2 = await connect(pole2);
    const anchors = [new X509Certificate(pki.caCertPem)];
    const heard: Record<string, string[]> = { 'pole-1': [], 'pole-2': [] };
    p1.on('message', (_t, payload) => void verifySigned(payload.toString(), ACK_TYP, anchors, 'dispatch', Date.now()).then((a) => heard['pole-1']?.push((a as { hitId: string }).hitId)));
    p2.on('message', (_t, payload) => void verifySigned(payload.toString(), ACK_TYP, anchors, 'dispatch', Date.now()).then((a) => heard['pole-2']?.push((a as { hitId: string }).hitId)));
    await p1.subscribeAsync(`alpr/v1/${AGENCY}/pole-1/acks`, { qos: 1 });
    // mosquitto grants the subscription and applies the read ACL per message: pole-2 must hear nothing.
    await p2.subscribeAsync([`alpr/v1/${AGENCY}/pole-1/acks`, `alpr/v1/${AGENCY}/pole-2/acks`], { qos: 1 });

    // pole-2 publishes a status under pole-1's name: dropped by the broker, so no cert-seen goes out.
    // (Awaited to its PUBACK, so the broker has dealt with it before the hit below goes out; the
    // PUBACK may carry "not authorized", which mqtt.js reports as an error.)
    await p2.publishAsync(`alpr/v1/${AGENCY}/pole-1/status`, JSON.stringify({ state: 'online', device: 'pole-1', certificate: { serial: 'FFFF' } }), { qos: 1 }).catch(() => undefined);

    const own = makeHit('pole-1', AGENCY, Date.now());
    const on = (r: Receiver): Promise<void> => new Promise<void>((resolve) => r.on('hit', (h) => h.hitId === own.hitId && resolve()));
    const got = Promise.all([on(receiver), on(peer)]);
    await p1.publishAsync(`alpr/v1/${AGENCY}/pole-1/hits`, await seal(own, pole1, certs.encryption), { qos: 1 });
    await got; // one took it from the pole, the other from its peer: the ACL lets the receivers share
    const deadline = Date.now() + 10_000;
    while (!heard['pole-1']?.includes(own.hitId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(heard['pole-1']).toEqual([own.hitId]);
    expect(heard['pole-2']).toEqual([]);
    expect(receiver.devices()['pole-1']).toBeUndefined();
    expect(peer.devices()['pole-1']).toBeUndefined();
    expect(receiver.stats().received + peer.stats().received).toBe(1);
  }, 60_000);
});
