import { createClient } from 'redis';
import { ApiClient, registeredClient } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';
import { SessionStore } from '../src/session/session-store';
import type { GatewayEnvironment } from '../src/config/gateway-environment';

const HOUR_MS = 3600_000;

/**
 * The session cookie and its Redis key expire together, a day after the last renewal; a
 * request renews both once the last renewal is over an hour old (session.middleware.ts).
 */
describe('gateway: session renewal', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let redis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwrenew');
    gateway = await startService('gateway', stack);
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
  });

  afterAll(async () => {
    await redis?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  const sessionKey = (api: ApiClient) =>
    `${stack.redisPrefix}sess:${decodeURIComponent(api.sessionCookie!).slice(2).split('.')[0]}`;
  const cookieExpiry = (lines: string[]) => {
    const line = lines.find((candidate) => candidate.startsWith('taskit.sid='));
    return line === undefined ? undefined : Date.parse(/Expires=([^;]+)/i.exec(line)![1]);
  };

  /** The gateway's session store on the test's client and prefix. */
  const sessionStore = () =>
    new SessionStore(redis as never, { REDIS_PREFIX: stack.redisPrefix } as GatewayEnvironment);

  /** Makes the stored session look set `ageMs` ago: cookie expiry and TTL a day after that. */
  async function age(api: ApiClient, ageMs: number): Promise<number> {
    const key = sessionKey(api);
    const stored = JSON.parse((await redis.get(key))!) as { cookie: { expires: string } };
    const expires = Date.now() - ageMs + 24 * HOUR_MS;
    stored.cookie.expires = new Date(expires).toISOString();
    await redis.set(key, JSON.stringify(stored), { expiration: { type: 'PXAT', value: expires } });
    return expires;
  }

  it('sends no cookie and leaves the TTL alone while the session is younger than an hour', async () => {
    const api = await registeredClient(gateway.url, 'renew-fresh');
    const expiresBefore = await age(api, 30 * 60_000);
    const response = await fetch(`${gateway.url}/api/tasks`, {
      headers: { cookie: `taskit.sid=${api.sessionCookie}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(Math.abs(expiresBefore - Date.now() - (await redis.pTTL(sessionKey(api))))).toBeLessThan(
      5_000,
    );
  });

  it('renews cookie and Redis key to a full day once the last renewal is over an hour old', async () => {
    const api = await registeredClient(gateway.url, 'renew-old');
    const key = sessionKey(api);
    await age(api, 2 * HOUR_MS);
    const me = await api.get('/api/auth/me');
    expect(me.status).toBe(200);
    const expires = cookieExpiry(api.lastSetCookie);
    expect(expires! - Date.now()).toBeGreaterThan(24 * HOUR_MS - 10_000);
    expect(expires! - Date.now()).toBeLessThanOrEqual(24 * HOUR_MS + 5_000);
    expect(await redis.pTTL(key)).toBeGreaterThan(24 * HOUR_MS - 10_000);
    // Same session id, still logged in, and the next request sends no cookie again.
    expect(sessionKey(api)).toBe(key);
    const again = await fetch(`${gateway.url}/api/tasks`, {
      headers: { cookie: `taskit.sid=${api.sessionCookie}` },
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('set-cookie')).toBeNull();
  });

  it('a renewal never recreates a session that was destroyed meanwhile', async () => {
    const api = await registeredClient(gateway.url, 'renew-gone');
    const key = sessionKey(api);
    const stored = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
    expect((await api.logout()).status).toBe(204);
    expect(await redis.exists(key)).toBe(0);

    const store = sessionStore();
    const session = {
      ...stored,
      cookie: { expires: new Date(Date.now() + 24 * HOUR_MS), originalMaxAge: 24 * HOUR_MS },
      renewedAt: Date.now(),
    };
    const error = await new Promise<unknown>((resolve) =>
      store.set(key.slice(`${stack.redisPrefix}sess:`.length), session, resolve),
    );
    expect(error).toBeUndefined();
    expect(await redis.exists(key)).toBe(0);
  });

  it('the store has no touch, so express-session does not hash every unchanged session again', () => {
    // express-session decides once, from `typeof store.touch`, whether to ask at the end of
    // each request if the session needs a touch; asking hashes the session.
    const store = sessionStore();
    expect(typeof (store as { touch?: unknown }).touch).toBe('undefined');
  });
});
