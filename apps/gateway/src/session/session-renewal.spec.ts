import { isRenewalDue } from './session-renewal';
import { SESSION_MAX_AGE_MS } from './session.constants';

const HOUR_MS = 3600_000;

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
