import { SESSION_MAX_AGE_MS, SESSION_RENEW_INTERVAL_MS } from './session.constants';

/** A session whose cookie was last set longer than SESSION_RENEW_INTERVAL_MS before `now`. */
export function isRenewalDue(expires: Date | string, now = Date.now()): boolean {
  const at = typeof expires === 'string' ? Date.parse(expires) : expires.getTime();
  return at - now < SESSION_MAX_AGE_MS - SESSION_RENEW_INTERVAL_MS;
}
