/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are untyped JSON that tests inspect freely */
/**
 * A small HTTP client for the gateway's API as a browser would use it: a cookie jar for the
 * session cookie and the CSRF token of the latest auth response sent on state-changing calls.
 */
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  /** A JSON value (serialised here) or a raw string sent as is. */
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Send X-CSRF-Token (default: when the client has one and the method changes state). */
  csrf?: boolean | string;
  query?: string;
}

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The Cookie header a browser sends for this jar, or undefined when it holds none. */
export function cookieHeader(cookies: ReadonlyMap<string, string>): string | undefined {
  if (cookies.size === 0) return undefined;
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

/** Keeps what Set-Cookie lines set in the jar and drops what they expire or empty. */
export function storeSetCookies(cookies: Map<string, string>, lines: readonly string[]): void {
  for (const line of lines) {
    const [pair] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    if (/expires=thu, 01 jan 1970/i.test(line) || value === '') cookies.delete(name);
    else cookies.set(name, value);
  }
}
export const SESSION_COOKIE = 'taskit.sid';
/** The cookie's name in production behind TLS (docs/security.md, Sessions). */
export const HOST_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
/** The password of every test account: long enough, and not a common one (docs/security.md). */
export const TEST_PASSWORD = 'correct horse battery';

export class ApiClient {
  /** Cookie name -> value, as the server last set them. */
  readonly cookies = new Map<string, string>();
  csrfToken?: string;
  /** The full Set-Cookie header lines of the last response that set any. */
  lastSetCookie: string[] = [];

  constructor(public baseUrl: string) {}

  /** The same browser (cookies and token) talking to another gateway process. */
  on(baseUrl: string): ApiClient {
    const other = new ApiClient(baseUrl);
    this.cookies.forEach((value, name) => other.cookies.set(name, value));
    other.csrfToken = this.csrfToken;
    return other;
  }

  /** The session cookie's value, under either of its names. */
  get sessionCookie(): string | undefined {
    return this.cookies.get(HOST_SESSION_COOKIE) ?? this.cookies.get(SESSION_COOKIE);
  }

  set sessionCookie(value: string | undefined) {
    const name = this.cookies.has(HOST_SESSION_COOKIE) ? HOST_SESSION_COOKIE : SESSION_COOKIE;
    if (value === undefined) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }

  async request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const cookie = cookieHeader(this.cookies);
    if (cookie !== undefined) headers.cookie = cookie;
    const csrf =
      options.csrf === undefined
        ? STATE_CHANGING.has(method) && this.csrfToken !== undefined
        : options.csrf;
    if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
    else if (csrf && this.csrfToken) headers['x-csrf-token'] = this.csrfToken;
    let body: string | Buffer | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const url = `${this.baseUrl}${path}${options.query ? `?${options.query}` : ''}`;
    const response = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(20_000),
    });
    const setCookies = response.headers.getSetCookie();
    if (setCookies.length > 0) this.lastSetCookie = setCookies;
    storeSetCookies(this.cookies, setCookies);
    const text = await response.text();
    let parsed: unknown = undefined;
    if (text && response.headers.get('content-type')?.includes('application/json')) {
      parsed = JSON.parse(text);
    }
    const result: ApiResponse<T> = {
      status: response.status,
      headers: response.headers,
      body: parsed as T,
      text,
    };
    const token = (parsed as { csrfToken?: unknown } | undefined)?.csrfToken;
    if (typeof token === 'string') this.csrfToken = token;
    return result;
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }

  post<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('POST', path, { body, ...options });
  }

  patch<T = any>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>('PATCH', path, { body, ...options });
  }

  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }

  register(email: string, password = TEST_PASSWORD) {
    return this.post('/api/auth/register', { email, password });
  }

  login(email: string, password = TEST_PASSWORD) {
    return this.post('/api/auth/login', { email, password });
  }

  logout() {
    return this.post('/api/auth/logout');
  }
}

let counter = 0;
/** A fresh, unique email address for a test account. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}@example.com`;
}

/** Registers a new account on `baseUrl` and returns its logged-in client. */
export async function registeredClient(baseUrl: string, label?: string): Promise<ApiClient> {
  const client = new ApiClient(baseUrl);
  const response = await client.register(uniqueEmail(label));
  if (response.status !== 201) {
    throw new Error(`register failed: ${response.status} ${response.text}`);
  }
  return client;
}
