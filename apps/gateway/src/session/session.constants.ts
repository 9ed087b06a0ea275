/** The session cookie (docs/api.md: the login is carried by a session cookie). */
export const SESSION_COOKIE_NAME = 'taskit.sid';
/**
 * Its name when browsers reach the gateway over HTTPS only: the `__Host-` prefix makes a
 * browser accept it only Secure, for Path=/ and without Domain, so that no sibling subdomain
 * or plain-HTTP page can plant or overwrite it.
 */
export const HOST_SESSION_COOKIE_NAME = `__Host-${SESSION_COOKIE_NAME}`;
/** The most sessions one user keeps; a new login beyond it ends the oldest. */
export const SESSIONS_PER_USER_MAX = 20;
/** Session lifetime (cookie and Redis key) after its last renewal. */
export const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/**
 * A request renews the session (new cookie expiry, Redis TTL) when the last renewal is older
 * than this, so a session idle for 23 to 24 hours expires and the cookie is signed and sent
 * about once an hour instead of on every response.
 */
export const SESSION_RENEW_INTERVAL_MS = 60 * 60 * 1000;
/** Paths that never need a session: probes, scrapes and static assets must not touch Redis. */
export const SESSIONLESS_PATH_PREFIXES = ['/health/', '/metrics', '/assets/'];
