import type { INestApplication } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.ts';

/** `/metrics` however it is spelled: any case, repeated or trailing slashes, a query. */
export function isMetricsPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0].replace(/\/+/g, '/').toLowerCase();
  return path === '/metrics' || path.startsWith('/metrics/');
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts a listener in front of the main port's application that answers /metrics with 404.
 * It wraps the HTTP server's request listeners instead of adding a middleware, so that it
 * holds whether it is installed before or after the application's routes (app.init).
 */
function takeMetricsOffMainPort(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isMetricsPath(req.url)) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    res.writeHead(404, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(JSON.stringify({ statusCode: 404, message: 'Not Found', error: 'Not Found' }));
  });
}

/**
 * Serves the app's registry at /metrics on a port of its own (on Kubernetes one that no
 * Service or Ingress routes, for the scraper only) and takes /metrics off the main port,
 * which the load balancer exposes. Call before `app.listen`; the server closes with the app.
 */
export async function serveMetricsOnOwnPort(app: INestApplication, port: number): Promise<Server> {
  const registry = app.get<Registry>(METRICS_REGISTRY);
  takeMetricsOffMainPort(app);
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, {
          'Content-Type': registry.contentType,
          'Cache-Control': 'no-store',
        });
        res.end(text);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  (app.getHttpServer() as Server).once('close', () => server.close());
  return server;
}

/** The port a server listens on (0 asks the system for a free one). */
export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
