import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MetricsModule } from './metrics.ts';
import { listeningPort, serveMetricsOnOwnPort } from './metrics-port.ts';

async function appWithMetrics(ownPort?: number): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [MetricsModule.register({ ownPort })],
  }).compile();
  return moduleRef.createNestApplication({ logger: false });
}

describe('METRICS_PORT: /metrics on a port of its own', () => {
  let app: INestApplication;
  afterEach(async () => app?.close());

  it.each([
    ['before', true],
    ['after', false],
  ])(
    'serves the registry there and nothing under /metrics on the main port (set up %s init)',
    async (_when, beforeInit) => {
      app = await appWithMetrics(0);
      if (!beforeInit) await app.init();
      const metrics = await serveMetricsOnOwnPort(app, 0);
      if (beforeInit) await app.init();

      const scraped = await fetch(`http://127.0.0.1:${listeningPort(metrics)}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toContain('text/plain');
      expect(await scraped.text()).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`http://127.0.0.1:${listeningPort(metrics)}/`)).status).toBe(404);

      for (const path of ['/metrics', '/METRICS', '/metrics/', '//metrics', '/metrics?x=1'])
        expect((await request(app.getHttpServer() as Server).get(path)).status).toBe(404);
      expect((await request(app.getHttpServer() as Server).get('/metricsx')).status).toBe(404);
    },
  );

  it('without it, the main port serves /metrics as before', async () => {
    app = await appWithMetrics();
    await app.init();
    const res = await request(app.getHttpServer() as Server).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_request_duration_seconds');
  });
});
