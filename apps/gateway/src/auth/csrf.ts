import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SetMetadata } from '@nestjs/common';

export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change state and therefore need the session's CSRF token. */
export const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const CSRF_EXEMPT = Symbol('csrfExempt');

/**
 * Marks a route reachable without a session's token because it creates the session (register,
 * login). The exemption belongs to the matched route, not to a spelling of its path; such a
 * route takes the SameOriginGuard instead.
 */
export const CsrfExempt = () => SetMetadata(CSRF_EXEMPT, true);

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

export function csrfTokenMatches(expected: string | undefined, given: unknown): boolean {
  if (typeof expected !== 'string' || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a request to a route must carry a valid X-CSRF-Token (docs/api.md). */
export function requiresCsrf(method: string, routeIsExempt: boolean): boolean {
  return STATE_CHANGING_METHODS.has(method.toUpperCase()) && !routeIsExempt;
}
