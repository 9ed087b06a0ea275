import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { environmentProblems, validateEnvironment } from '@taskit/config';
import { GatewayEnvironment } from './gateway-environment';

const SECRET = 'kQ9v2XcR7mTz4LbW1nYp8HsD3gJf6AeUoV5iC0tK';
const OLD_SECRET = 'Zp4N8rWq1Xe6Lb3Tj9Ks2Vm7Ha5Dg0Fc8Yu1Io4R';

const problemsOf = (raw: Record<string, string>) =>
  environmentProblems(GatewayEnvironment, raw).map((p) => p.split(':')[0]);

describe('GatewayEnvironment', () => {
  it('starts with nothing set in development, on the contract ports and local servers', () => {
    const env = validateEnvironment(GatewayEnvironment, {});
    expect(env).toMatchObject({
      PORT: 3000,
      MONGODB_URI: 'mongodb://127.0.0.1:27017/taskit',
      REDIS_URL: 'redis://127.0.0.1:6379',
      MONGODB_MAX_POOL_SIZE: 20,
      TASK_LIST_CACHE_TTL_SECONDS: 60,
    });
    expect(env.trustProxy).toBe(false);
    expect(env.httpsOnly).toBe(false);
    expect(env.sessionSecret.length).toBeGreaterThanOrEqual(32);
  });

  it('requires strong session secrets in production, newest first, all of them checked', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['SESSION_SECRET']);
    for (const weak of [
      'short',
      's'.repeat(32),
      `${SECRET},change-me-session-secret-at-least-32-chars`,
    ])
      expect(problemsOf({ NODE_ENV: 'production', SESSION_SECRET: weak })).toEqual([
        'SESSION_SECRET',
      ]);
    const env = validateEnvironment(GatewayEnvironment, {
      NODE_ENV: 'production',
      SESSION_SECRET: `${SECRET},${OLD_SECRET}`,
    });
    expect(env.sessionSecret).toBe(SECRET);
    expect(env.sessionSecrets).toEqual([SECRET, OLD_SECRET]);
  });

  it('reads its credentials from the files the gke overlay mounts (<NAME>_FILE)', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'taskit-gateway-secrets-'));
    const file = (name: string, content: string) => {
      writeFileSync(path.join(folder, name), content);
      return path.join(folder, name);
    };
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const env = validateEnvironment(GatewayEnvironment, {
      NODE_ENV: 'production',
      SESSION_SECRET_FILE: file('session-secret', `${SECRET}\n`),
      MONGODB_URI_FILE: file('mongodb-uri', 'mongodb://taskit:pw@10.1.0.5:27017/taskit\n'),
      REDIS_URL_FILE: file('redis-url', 'rediss://:pw@10.2.0.3:6378\n'),
      REDIS_CACHE_URL_FILE: file('redis-cache-url', 'rediss://:pw@10.2.0.4:6378\n'),
      REDIS_TLS_CA_FILE: file('redis-ca.pem', ca),
      RABBITMQ_URL_FILE: file('rabbitmq-url', 'amqps://gateway:pw@10.3.0.2:5671\n'),
    });
    expect(env).toMatchObject({
      sessionSecret: SECRET,
      MONGODB_URI: 'mongodb://taskit:pw@10.1.0.5:27017/taskit',
      REDIS_URL: 'rediss://:pw@10.2.0.3:6378',
      REDIS_CACHE_URL: 'rediss://:pw@10.2.0.4:6378',
      REDIS_TLS_CA: ca.trimEnd(),
      RABBITMQ_URL: 'amqps://gateway:pw@10.3.0.2:5671',
    });
    expect(problemsOf({ REDIS_TLS_CA_FILE: file('not-pem', 'hello') })).toEqual(['REDIS_TLS_CA']);
  });

  it('throttles sign-ups tightly in production and loosely elsewhere, unless set', () => {
    const production = validateEnvironment(GatewayEnvironment, {
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
    });
    expect(production.registrationLimits.perClient).toBeLessThanOrEqual(20);
    expect(production.apiDocs).toBe(false);
    const local = validateEnvironment(GatewayEnvironment, {});
    expect(local.registrationLimits.perClient).toBeGreaterThanOrEqual(1000);
    expect(local.apiDocs).toBe(true);
    const loosened = validateEnvironment(GatewayEnvironment, {
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
      REGISTRATION_MAX_PER_CLIENT: '500',
      API_DOCS: 'true',
    });
    expect(loosened.registrationLimits.perClient).toBe(500);
    expect(loosened.apiDocs).toBe(true);
  });

  it('trusts one proxy and sends HSTS by default in production; both can be turned off', () => {
    const production = { NODE_ENV: 'production', SESSION_SECRET: SECRET };
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
    ['LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT', '0'],
    ['REGISTRATION_MAX_PER_CLIENT', '0'],
    ['REGISTRATION_MAX_TOTAL', 'many'],
    ['SESSION_ABSOLUTE_LIFETIME_SECONDS', '0'],
    ['API_DOCS', 'yes'],
  ])('refuses %s=%p', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([name]);
  });
});
