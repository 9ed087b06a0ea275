import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.ts';

/**
 * Serves the app's registry at /metrics on a port of its own (on Kubernetes one that no
 * Service or Ingress routes, for the scraper only) and takes /metrics off the main port,
 * which the load balancer exposes. Call before `app.listen`; the server closes with the app.
 */
export async function serveMetricsOnOwnPort(app: INestApplication, port: number): Promise<Server> {
  const registry = app.get<Registry>(METRICS_REGISTRY);
  // Express matches the mount path case-insensitively and with any suffix: /METRICS/ too.
  app.use('/metrics', (_req: Request, res: Response, _next: NextFunction) => {
    res.status(404).json({ statusCode: 404, message: 'Not Found', error: 'Not Found' });
  });
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
