import { decideLogin, type ThrottleLimits } from './login-throttle.policy';

const limits: ThrottleLimits = { perAccount: 5, perClient: 20, windowMs: 900_000 };

describe('decideLogin', () => {
  it('allows below both limits', () => {
    expect(
      decideLogin({ failures: 4, ttlMs: 1000 }, { failures: 19, ttlMs: 1000 }, limits),
    ).toEqual({ allowed: true });
  });

  it('refuses when the account reached its limit, with the time until its counter resets', () => {
    expect(
      decideLogin({ failures: 5, ttlMs: 61_200 }, { failures: 5, ttlMs: 61_200 }, limits),
    ).toEqual({ allowed: false, retryAfterSeconds: 62 });
  });

  it('refuses when the client reached its limit, whatever the account', () => {
    expect(decideLogin({ failures: 0, ttlMs: -2 }, { failures: 20, ttlMs: 1_000 }, limits)).toEqual(
      { allowed: false, retryAfterSeconds: 1 },
    );
  });

  it('waits for the later of two blocking counters', () => {
    expect(
      decideLogin({ failures: 9, ttlMs: 5_000 }, { failures: 25, ttlMs: 30_000 }, limits),
    ).toEqual({ allowed: false, retryAfterSeconds: 30 });
  });

  it('treats a counter without expiry as a full window and never answers 0 seconds', () => {
    expect(decideLogin({ failures: 5, ttlMs: -1 }, { failures: 0, ttlMs: -2 }, limits)).toEqual({
      allowed: false,
      retryAfterSeconds: 900,
    });
    expect(decideLogin({ failures: 5, ttlMs: 1 }, { failures: 0, ttlMs: -2 }, limits)).toEqual({
      allowed: false,
      retryAfterSeconds: 1,
    });
  });
});
