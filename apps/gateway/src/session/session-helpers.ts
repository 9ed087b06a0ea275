import type { Request } from 'express';
import './session.types';

function settle(resolve: () => void, reject: (error: unknown) => void) {
  return (error?: unknown) => (error ? reject(error) : resolve());
}

/** A new session id (and an empty session); the old one is deleted from the store. */
export function regenerateSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate(settle(resolve, reject)));
}

/** Writes the session now, so that a Redis failure becomes this request's error (503). */
export function saveSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save(settle(resolve, reject)));
}
