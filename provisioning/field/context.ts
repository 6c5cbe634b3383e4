/** What `alpr status` and `alpr selftest` share: the device's config (from its environment), identity and broker options. */
import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../../gateway/config/load.ts';
import type { GatewayConfig } from '../../gateway/config/schema.ts';
import { IdentityStore } from '../identity.ts';
import { resolvePem } from '../service.ts';
import { brokerTls, type BrokerOptions } from './probes.ts';

export interface FieldContext {
  readonly config: GatewayConfig;
  readonly identity: IdentityStore;
  broker(timeoutMs: number): Promise<BrokerOptions>;
  /** PEM anchors for the EST server: the configured bootstrap CA plus the device bundle. */
  estTrust(): Promise<string | undefined>;
}

export function fieldContext(env: NodeJS.ProcessEnv): FieldContext {
  const config = loadConfig(env);
  const identity = new IdentityStore(config.dataDir);
  const m = config.mqtt as GatewayConfig['mqtt'] & { keyPath?: string; certPath?: string; caPath?: string };
  return {
    config,
    identity,
    async broker(timeoutMs) {
      const fromId = await brokerTls(identity);
      // explicit paths in config (mqtt.keyPath/certPath/caPath) win over the identity directory
      const read = async (p: string | undefined, fallback: string | undefined): Promise<string | undefined> => (p ? readFile(p, 'utf8') : fallback);
      const [key, cert, ca] = await Promise.all([read(m.keyPath, fromId.key), read(m.certPath, fromId.cert), read(m.caPath, fromId.ca)]);
      const tls = m.url.startsWith('mqtts') || m.url.startsWith('wss') ? { ...(key ? { key } : {}), ...(cert ? { cert } : {}), ...(ca ? { ca } : {}) } : {};
      return { url: m.url, tls, timeoutMs, ...(m.username ? { username: m.username } : {}), ...(m.password ? { password: m.password } : {}) };
    },
    async estTrust() {
      const p = config.provisioning;
      if (!p.estUrl) return undefined;
      const bundle = await readFile(identity.path('ca'), 'utf8').catch(() => '');
      const text = (p.estCa ? resolvePem(p.estCa) : '') + bundle;
      return text || undefined;
    },
  };
}

/** Runs `body` with the device context; a bad config is exit 78 with the loader's message. */
export async function withFieldContext(env: NodeJS.ProcessEnv, stderr: { write(s: string): unknown }, name: string, body: (ctx: FieldContext) => Promise<number>): Promise<number> {
  let ctx: FieldContext;
  try {
    ctx = fieldContext(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      stderr.write(`alpr ${name}: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  return body(ctx);
}
