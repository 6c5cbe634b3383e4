/**
 * A free TCP port on the loopback interface, for servers that cannot pick their own (mosquitto).
 * The port is free when this resolves; another process could still take it before the caller binds
 * it, so callers that can should retry with a new port on EADDRINUSE (startMosquitto does).
 */
import { createServer } from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
