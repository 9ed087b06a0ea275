/** The session cookie (CONTRACT section 3: the login is carried by a session cookie). */
export const SESSION_COOKIE_NAME = 'taskit.sid';
/** Session lifetime, renewed on every response (rolling). */
export const SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** Paths that never need a session: probes, scrapes and static assets must not touch Redis. */
export const SESSIONLESS_PATH_PREFIXES = ['/health/', '/metrics', '/assets/'];
