/** JSON calls to the gateway's /api, with the session cookie and the CSRF header. */

export interface User {
  id: string;
  email: string;
}

export interface AuthResponse {
  user: User;
  csrfToken: string;
  notices?: string[];
}

/** A refusal by the server (4xx/5xx) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | undefined;

/** Remembers the token of the latest auth response (register, login, me). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

function messageOf(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'message' in body) {
    const message = body.message;
    if (Array.isArray(message)) return message.map(String).join('; ');
    if (typeof message === 'string' && message) return message;
  }
  return `The server answered ${status}`;
}

/** Sends a request; resolves with the parsed JSON body (undefined for 204), throws ApiError. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'the server could not be reached');
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(parsed, response.status));
  return parsed as T;
}

/** Where to go after signing in: a page of ours given in ?next=, else the tasks page. */
export function nextPage(): string {
  const next = new URLSearchParams(location.search).get('next');
  return next === '/analytics' || next === '/' ? next : '/';
}
