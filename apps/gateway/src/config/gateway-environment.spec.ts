import { environmentProblems, validateEnvironment } from '@taskit/config';
import { GatewayEnvironment } from './gateway-environment';

const problemsOf = (raw: Record<string, string>) =>
  environmentProblems(GatewayEnvironment, raw).map((p) => p.split(':')[0]);

describe('GatewayEnvironment', () => {
  it('starts with nothing set in development, on the contract ports and local servers', () => {
    const env = validateEnvironment(GatewayEnvironment, {});
    expect(env).toMatchObject({
      PORT: 3000,
      MONGODB_URI: 'mongodb://127.0.0.1:27017/taskit',
      REDIS_URL: 'redis://127.0.0.1:6379',
      MONGODB_MAX_POOL_SIZE: 10,
      TASK_LIST_CACHE_TTL_SECONDS: 60,
    });
    expect(env.trustProxy).toBe(false);
    expect(env.httpsOnly).toBe(false);
    expect(env.sessionSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('requires a session secret of 32+ characters in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['SESSION_SECRET']);
    expect(problemsOf({ NODE_ENV: 'production', SESSION_SECRET: 'short' })).toEqual([
      'SESSION_SECRET',
    ]);
    const env = validateEnvironment(GatewayEnvironment, {
      NODE_ENV: 'production',
      SESSION_SECRET: 's'.repeat(32),
    });
    expect(env.sessionSecret).toBe('s'.repeat(32));
  });

  it('trusts one proxy and sends HSTS by default in production; both can be turned off', () => {
    const production = { NODE_ENV: 'production', SESSION_SECRET: 's'.repeat(32) };
    const env = validateEnvironment(GatewayEnvironment, production);
    expect([env.trustProxy, env.httpsOnly]).toEqual([1, true]);
    const direct = validateEnvironment(GatewayEnvironment, {
      ...production,
      TRUST_PROXY: 'false',
      HTTPS_ONLY: 'false',
    });
    expect([direct.trustProxy, direct.httpsOnly]).toEqual([false, false]);
    expect(validateEnvironment(GatewayEnvironment, { TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it.each([
    ['MONGODB_MAX_POOL_SIZE', '0'],
    ['REDIS_PREFIX', 'has space'],
    ['ANALYTICS_RPC_TIMEOUT_MS', '50'],
    ['TASK_LIST_CACHE_TTL_SECONDS', '0'],
    ['TRUST_PROXY', 'true'],
    ['HTTPS_ONLY', 'yes'],
    ['LOGIN_MAX_FAILURES_PER_ACCOUNT', '0'],
  ])('refuses %s=%p', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([name]);
  });
});
