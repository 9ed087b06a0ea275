import type { SessionUser } from './session-user';

declare module 'express-session' {
  interface SessionData {
    /** Set by register and login; absent for an anonymous session. */
    user?: SessionUser;
    /** Bound to this session; required in X-CSRF-Token on state-changing /api requests. */
    csrfToken?: string;
    /** Set on the anonymous session that logout hands out to carry the "Signed out" notice. */
    signedOutAt?: number;
    /** When the user logged in (ms since the epoch): the session ends its absolute lifetime later. */
    authenticatedAt?: number;
    /** When the session was last renewed (session.middleware.ts); absent until the first. */
    renewedAt?: number;
  }
}

export {};
