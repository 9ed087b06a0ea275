import type { INestApplication } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.ts';

/**
 * Serves the app's registry at /metrics on a port of its own (on Kubernetes one that no
 * Service or Ingress routes, for the scraper only); the application, built with
 * MetricsModule.register({ ownPort }), has no /metrics route on the main port, which the load
 * balancer exposes. The server closes with the app.
 */
export async function serveMetricsOnOwnPort(app: INestApplication, port: number): Promise<Server> {
  const registry = app.get<Registry>(METRICS_REGISTRY);
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
