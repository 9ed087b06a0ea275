import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Counter, Registry } from 'prom-client';
import { BackgroundShare } from './background-share';
import { InFlightPerUser } from './in-flight-per-user';
import { RateLimitGuard } from './rate-limit.guard';
import type { RateLimits } from './rate-limits';

@Controller('api/tasks')
class TasksRoutes {
  @Get()
  list(): void {}
}

/** A real request on a real server, handed to the guard once its client has gone away. */
async function requestWhoseClientLeft(): Promise<{
  req: IncomingMessage;
  res: ServerResponse;
  close: () => Promise<void>;
}> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const arrived = once(server, 'request') as Promise<[IncomingMessage, ServerResponse]>;
  const client = request({ port: (server.address() as AddressInfo).port, path: '/api/tasks' });
  client.on('error', () => undefined);
  client.end();
  const [req, res] = await arrived;
  const closed = once(res, 'close');
  client.destroy();
  await closed;
  return {
    req,
    res,
    close: async () => {
      server.close();
      await once(server, 'close');
    },
  };
}

describe('RateLimitGuard', () => {
  it("frees the user's place in flight and the served count when the client left while its budgets were checked", async () => {
    const { req, res, close } = await requestWhoseClientLeft();
    try {
      Object.assign(req, { session: { user: { id: 'u1' } }, ip: '10.0.0.1' });
      // The budgets in Redis answer after the client has gone: 'close' has already been emitted.
      const limits = { consume: () => Promise.resolve({ allowed: true }) } as unknown as RateLimits;
      const inFlight = new InFlightPerUser(1);
      const share = new BackgroundShare();
      const guard = new RateLimitGuard(
        limits,
        new Reflector(),
        inFlight,
        new Counter({
          name: 'refused',
          help: 'refused',
          labelNames: ['limit'],
          registers: [new Registry()],
        }),
        share,
      );
      const context = {
        getType: () => 'http',
        getClass: () => TasksRoutes,
        getHandler: () => TasksRoutes.prototype.list,
        switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
      } as unknown as ExecutionContext;

      await expect(guard.canActivate(context)).resolves.toBe(true);
      await new Promise((resolve) => setImmediate(resolve));

      expect(inFlight.tryEnter('u1')).toBe(true);
      let running = 0;
      let most = 0;
      const limit = share.limit(2);
      await Promise.all(
        [1, 2].map(() =>
          limit(async () => {
            most = Math.max(most, (running += 1));
            await new Promise((resolve) => setImmediate(resolve));
            running -= 1;
          }),
        ),
      );
      expect(most).toBe(2);
    } finally {
      await close();
    }
  });
});
