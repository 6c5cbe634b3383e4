/**
 * A TCP proxy for fault tests: clients connect to `port`, bytes go to the current target. The
 * target can change (a broker restarted on another port), and the proxy can black-hole traffic:
 * connections stay open while every byte either way is silently dropped — a network partition as
 * a device sees one (no RST, no FIN, only silence until keepalive gives up).
 *
 *   const proxy = await startTcpProxy(broker.port);
 *   proxy.blackhole(true);   … proxy.blackhole(false);
 *   proxy.retarget(newBroker.port);
 *   await proxy.close();
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  retarget(port: number): void;
  /** Drop every byte both ways while on; connections are kept. */
  blackhole(on: boolean): void;
  /** Resets every open connection (both sides see it close). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  let target = targetPort;
  let holed = false;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((client) => {
    accepted++;
    const upstream = connect({ host, port: target });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (!holed && !to.destroyed) to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    get accepted() {
      return accepted;
    },
    retarget: (p) => {
      target = p;
    },
    blackhole: (on) => {
      holed = on;
    },
    dropAll: () => {
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.resetAndDestroy();
      }
      pairs.clear();
    },
    close: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
