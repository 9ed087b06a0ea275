/** One hop of an event's path, in the order the doctor walks it. */
export const HOPS = ['settings', 'health', 'outbox', 'rabbitmq', 'influxdb', 'probe'] as const;
export type Hop = (typeof HOPS)[number];

/** One verdict (docs/operations.md, The doctor): `hint` names the likely cause and the next command. */
export interface Check {
  hop: Hop;
  name: string;
  ok: boolean;
  detail: string;
  hint: string | null;
}

export function pass(hop: Hop, name: string, detail: string): Check {
  return { hop, name, ok: true, detail, hint: null };
}

export function fail(hop: Hop, name: string, detail: string, hint: string): Check {
  return { hop, name, ok: false, detail, hint };
}

export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return errorMessage(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? `: ${errorMessage(error.cause)}` : '';
    const message = error.message || (typeof code === 'string' ? code : error.name);
    // amqplib: 'Operation failed: QueueDeclare; 404 (NOT-FOUND) with message "NOT_FOUND - …"'
    const amqp = /with message "([^"]+)"/.exec(message);
    return `${(amqp ? amqp[1] : message).replace(/\s+/g, ' ').trim()}${cause}`;
  }
  return String(error);
}

/** Fetch with a deadline; rejects on network errors and timeouts. */
export function fetchWithin(url: string, ms: number, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
}
