import type { AddressInfo } from 'node:net';

/** The part of a node server `listen` needs (net.Server, http.Server). */
interface Listenable {
  listen(port: number, host: string, cb: () => void): unknown;
  once(event: 'error', cb: (err: Error) => void): unknown;
  off(event: 'error', cb: (err: Error) => void): unknown;
  address(): AddressInfo | string | null;
}

/** Starts listening and resolves with the bound port (useful with port 0), or rejects with the listen error. */
export function listen(server: Listenable, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
