import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change state and therefore need the session's CSRF token. */
export const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** State-changing /api routes reachable without a session (they create one). */
export const CSRF_EXEMPT_PATHS = new Set(['/api/auth/register', '/api/auth/login']);

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

export function csrfTokenMatches(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a request must carry a valid X-CSRF-Token (CONTRACT section 3). */
export function requiresCsrf(method: string, path: string): boolean {
  const normalised = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return (
    STATE_CHANGING_METHODS.has(method.toUpperCase()) &&
    normalised.startsWith('/api/') &&
    !CSRF_EXEMPT_PATHS.has(normalised.toLowerCase())
  );
}
