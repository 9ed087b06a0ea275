import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

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

/** The OpenAPI security scheme of the token: an API key in the X-CSRF-Token header. */
export const CSRF_SECURITY_SCHEME = 'csrf';
/** The session cookie's security scheme (DocumentBuilder.addCookieAuth's default name). */
export const SESSION_SECURITY_SCHEME = 'cookie';

/**
 * Documents a route that needs the session cookie and the CSRF token together, as a security
 * requirement rather than a header parameter: a client sends the token on every such call
 * (docs/api.md, "Conventions").
 */
export const ApiCsrfToken = () =>
  ApiSecurity({ [SESSION_SECURITY_SCHEME]: [], [CSRF_SECURITY_SCHEME]: [] });

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
