/**
 * The gateway's API through openapi-fetch, typed by the paths that `npm run api:types`
 * generates from the gateway's OpenAPI document (libs/contracts/src/openapi/gateway-api.d.ts;
 * docs/api.md, "The typed client"): a path, a parameter, a body or a field of an answer that
 * the document does not describe fails to compile. Like ApiClient (./api-client.ts), it is a
 * browser: a cookie jar for the session cookie, and the CSRF token of the latest auth response
 * sent on state-changing calls.
 */
import type { paths } from '@taskit/contracts/openapi/gateway-api';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import {
  cookieHeader,
  STATE_CHANGING,
  storeSetCookies,
  TEST_PASSWORD,
  uniqueEmail,
} from './api-client';

export type { components, operations, paths } from '@taskit/contracts/openapi/gateway-api';

const REQUEST_TIMEOUT_MS = 20_000;

export class TypedApiClient {
  /** Cookie name -> value, as the server last set them. */
  readonly cookies = new Map<string, string>();
  csrfToken?: string;
  /** openapi-fetch's client: `api.GET('/api/tasks', { params: { query: { limit: 2 } } })`. */
  readonly api: Client<paths>;

  constructor(readonly baseUrl: string) {
    this.api = createClient<paths>({
      baseUrl,
      redirect: 'manual',
      fetch: (request) => fetch(request, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
    });
    this.api.use(this.browser());
  }

  /** Sends the cookies and the token; keeps the cookies set and the token of auth answers. */
  private browser(): Middleware {
    return {
      onRequest: ({ request }) => {
        const cookie = cookieHeader(this.cookies);
        if (cookie !== undefined) request.headers.set('cookie', cookie);
        if (STATE_CHANGING.has(request.method) && this.csrfToken !== undefined) {
          request.headers.set('x-csrf-token', this.csrfToken);
        }
        return request;
      },
      onResponse: async ({ response }) => {
        storeSetCookies(this.cookies, response.headers.getSetCookie());
        if (!response.headers.get('content-type')?.includes('application/json')) return;
        const body: unknown = await response.clone().json();
        const token = (body as { csrfToken?: unknown } | null)?.csrfToken;
        if (typeof token === 'string') this.csrfToken = token;
      },
    };
  }
}

/** Registers a new account on `baseUrl` through the typed client and returns it, logged in. */
export async function registeredTypedClient(
  baseUrl: string,
  label?: string,
): Promise<{ client: TypedApiClient; email: string }> {
  const client = new TypedApiClient(baseUrl);
  const email = uniqueEmail(label);
  const { data, error, response } = await client.api.POST('/api/auth/register', {
    body: { email, password: TEST_PASSWORD },
  });
  if (data === undefined) {
    throw new Error(`register failed: ${response.status} ${error?.message ?? ''}`);
  }
  return { client, email };
}
