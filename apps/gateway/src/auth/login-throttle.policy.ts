/** How many failed logins a window tolerates, per account and per client address. */
export interface ThrottleLimits {
  perAccount: number;
  perClient: number;
  windowMs: number;
}

/** A counter as read from Redis: failures so far and the milliseconds until it resets. */
export interface ThrottleCounter {
  failures: number;
  ttlMs: number;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A login is refused while the account's or the client's failures within the window have
 * reached the limit; Retry-After is the time until the blocking counter(s) reset (whole
 * seconds, at least 1). A counter without a TTL (should not happen) counts as a full window.
 */
export function decideLogin(
  account: ThrottleCounter,
  client: ThrottleCounter,
  limits: ThrottleLimits,
): ThrottleDecision {
  const waits: number[] = [];
  if (account.failures >= limits.perAccount) waits.push(remaining(account, limits));
  if (client.failures >= limits.perClient) waits.push(remaining(client, limits));
  if (waits.length === 0) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(...waits) / 1000)) };
}

function remaining(counter: ThrottleCounter, limits: ThrottleLimits): number {
  return counter.ttlMs > 0 ? counter.ttlMs : limits.windowMs;
}
