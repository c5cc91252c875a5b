/**
 * A TCP load balancer for cluster tests, as a deployment puts in front of relive nodes: each new
 * connection goes to the next backend in turn (no stickiness), skipping backends that refuse the
 * connection (a dead node). Bytes are piped as they are; when either side ends, so does the other.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpBalancer {
  readonly url: string;
  /** Connections handed to each backend so far, by index. */
  readonly handed: number[];
  close(): Promise<void>;
}

export async function startTcpBalancer(backends: readonly { host: string; port: number }[]): Promise<TcpBalancer> {
  let next = 0;
  const handed = backends.map(() => 0);
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const server: Server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => undefined);
    const tryBackend = (attempt: number): void => {
      if (attempt >= backends.length) {
        client.destroy();
        return;
      }
      const index = next++ % backends.length;
      const backend = connect(backends[index]!.port, backends[index]!.host);
      track(backend);
      let connected = false;
      backend.once('connect', () => {
        connected = true;
        handed[index]!++;
        client.pipe(backend);
        backend.pipe(client);
        client.resume();
      });
      backend.on('error', () => {
        if (!connected) tryBackend(attempt + 1);
        else client.destroy();
      });
      backend.once('close', () => connected && client.destroy());
      client.once('close', () => backend.destroy());
    };
    tryBackend(0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    handed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
