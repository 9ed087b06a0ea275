import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { isRenewalDue, sessionIdOf, unsign } from './session-reader';
import { SESSION_MAX_AGE_MS } from './session.constants';

const SECRET = 'a test secret';
const HOUR_MS = 3600_000;

/** The cookie value as express-session signs it: `s:` + id + `.` + HMAC-SHA256 in base64. */
function signed(sid: string, secret = SECRET): string {
  const mac = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${sid}.${mac}`);
}

describe('reading the session id from a Cookie header as express-session does', () => {
  it('takes the id of a correctly signed taskit.sid cookie among others', () => {
    expect(sessionIdOf(`a=1; taskit.sid=${signed('abc-123')}; b=2`, SECRET)).toBe('abc-123');
  });

  it.each<[string, string | undefined]>([
    ['no header', undefined],
    ['no taskit.sid cookie', 'other=1'],
    ['an unsigned value', 'taskit.sid=abc-123'],
    ['another secret', `taskit.sid=${signed('abc-123', 'other secret')}`],
    ['a changed id', `taskit.sid=${signed('abc-123').replace('abc', 'abd')}`],
    ['an empty value', 'taskit.sid='],
    ['a signed empty id (express-session starts a new session)', `taskit.sid=${signed('')}`],
  ])('gives no id for %s', (_case, header) => {
    expect(sessionIdOf(header, SECRET)).toBeUndefined();
  });

  it('uses the first taskit.sid cookie, as the cookie parser does', () => {
    const header = `taskit.sid=${signed('first')}; taskit.sid=${signed('second')}`;
    expect(sessionIdOf(header, SECRET)).toBe('first');
  });
});

describe('unsign, against the cookie-signature that express-session signs with', () => {
  const signature = createRequire(require.resolve('express-session'))('cookie-signature') as {
    sign(value: string, secret: string): string;
    unsign(value: string, secret: string): string | false;
  };

  it.each(['abc-123', 'x', 'with.dots.inside', 'ünïcödé', ''])(
    'accepts and rejects what it does for the id %j',
    (sid) => {
      const good = signature.sign(sid, SECRET);
      const variants = [
        good,
        `${good}x`,
        good.slice(0, -1),
        `${sid}.`,
        sid,
        signature.sign(sid, 'other'),
      ];
      for (const value of variants) {
        expect(unsign(value, SECRET) ?? false).toBe(signature.unsign(value, SECRET));
      }
      expect(unsign(good, SECRET)).toBe(sid);
    },
  );
});

describe('renewal', () => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  const setAgo = (ms: number) => new Date(now - ms + SESSION_MAX_AGE_MS);

  it('is due once the cookie was set over an hour ago', () => {
    expect(isRenewalDue(setAgo(HOUR_MS + 1), now)).toBe(true);
    expect(isRenewalDue(setAgo(5 * HOUR_MS).toISOString(), now)).toBe(true);
  });

  it('is not due within the hour', () => {
    expect(isRenewalDue(setAgo(HOUR_MS - 1_000), now)).toBe(false);
    expect(isRenewalDue(setAgo(0).toISOString(), now)).toBe(false);
  });
});
