import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of one server that can hold what clients send while paused: a test
 * uses it to keep a query in flight for as long as it needs, without stopping the shared
 * server behind it.
 */
export class PausableProxy {
  private paused = false;
  private readonly held: (() => void)[] = [];
  private readonly sockets = new Set<Socket>();

  private readonly server: Server;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk) => {
        if (this.paused) this.held.push(() => upstream.write(chunk));
        else upstream.write(chunk);
      });
      upstream.pipe(client);
    });
  }

  static async start(target: { host: string; port: number }): Promise<PausableProxy> {
    const proxy = new PausableProxy(target);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address();
    if (address === null || typeof address === 'string') throw new Error('no proxy port');
    proxy.port = address.port;
    return proxy;
  }

  /** Holds every byte clients send from now on, in order. */
  pause(): void {
    this.paused = true;
  }

  /** Sends what was held and lets traffic through again. */
  resume(): void {
    this.paused = false;
    for (const send of this.held.splice(0)) send();
  }

  async stop(): Promise<void> {
    this.resume();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
