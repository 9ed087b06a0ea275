import { validateEnvironment } from '@taskit/config';
import express from 'express';
import request from 'supertest';
import { applyTrustProxy } from './bootstrap';
import { GatewayEnvironment } from './config/gateway-environment';

// What GKE's external Application Load Balancer sends a pod (container-native, via NEGs):
// the socket peer is a Google front end, and X-Forwarded-For ends with the client's
// address and the forwarding rule's address. Anything before them is whatever the client
// sent itself.
const CLIENT = '203.0.113.7';
const FORWARDING_RULE = '34.120.10.20';

function clientAddressSeenWith(settings: Record<string, string>, forwardedFor?: string) {
  const env = validateEnvironment(GatewayEnvironment, settings);
  const app = express();
  applyTrustProxy(app, env);
  app.get('/ip', (req, res) => {
    res.json({ ip: req.ip });
  });
  const call = request(app).get('/ip');
  return (forwardedFor ? call.set('X-Forwarded-For', forwardedFor) : call).then(
    (res) => (res.body as { ip: string }).ip,
  );
}

describe('TRUST_PROXY: the client address behind the load balancer', () => {
  const production = {
    NODE_ENV: 'production',
    SESSION_SECRET: 'kQ9v2XcR7mTz4LbW1nYp8HsD3gJf6AeUoV5iC0tK',
  };

  it('with the GKE load balancer two hops, req.ip is the client, not the forwarding rule', async () => {
    await expect(
      clientAddressSeenWith({ ...production, TRUST_PROXY: '2' }, `${CLIENT}, ${FORWARDING_RULE}`),
    ).resolves.toBe(CLIENT);
  });

  it('an address the client prepends itself is not believed', async () => {
    await expect(
      clientAddressSeenWith(
        { ...production, TRUST_PROXY: '2' },
        `198.51.100.1, ${CLIENT}, ${FORWARDING_RULE}`,
      ),
    ).resolves.toBe(CLIENT);
  });

  it('one hop (the production default) would give every user the forwarding rule address', async () => {
    await expect(clientAddressSeenWith(production, `${CLIENT}, ${FORWARDING_RULE}`)).resolves.toBe(
      FORWARDING_RULE,
    );
  });

  it('false ignores X-Forwarded-For: req.ip is the socket peer, whatever the header says', async () => {
    const settings = { ...production, TRUST_PROXY: 'false' };
    // supertest connects over loopback, so the peer is 127.0.0.1 (as IPv4 or IPv4-mapped IPv6).
    const loopback = /^(::ffff:)?127\.0\.0\.1$/;
    await expect(clientAddressSeenWith(settings)).resolves.toMatch(loopback);
    await expect(clientAddressSeenWith(settings, `${CLIENT}, ${FORWARDING_RULE}`)).resolves.toMatch(
      loopback,
    );
  });

  it('rejects anything but false or a small hop count', () => {
    for (const value of ['true', '0', 'loopback', '-1', '10'])
      expect(() => validateEnvironment(GatewayEnvironment, { TRUST_PROXY: value })).toThrow(
        /TRUST_PROXY/,
      );
  });
});

describe('HTTPS_ONLY', () => {
  it('defaults to production, and plain-HTTP production deployments turn it off', () => {
    const production = {
      NODE_ENV: 'production',
      SESSION_SECRET: 'kQ9v2XcR7mTz4LbW1nYp8HsD3gJf6AeUoV5iC0tK',
    };
    expect(validateEnvironment(GatewayEnvironment, production).httpsOnly).toBe(true);
    expect(
      validateEnvironment(GatewayEnvironment, { ...production, HTTPS_ONLY: 'false' }).httpsOnly,
    ).toBe(false);
    expect(validateEnvironment(GatewayEnvironment, {}).httpsOnly).toBe(false);
  });
});
