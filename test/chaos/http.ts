import { request } from 'node:http';

/**
 * One HTTP exchange as a load balancer sees it. A new connection per request (no keep-alive),
 * so that a refused connection always means the server never saw the request and it can be
 * sent to another pod, while a connection that died before the answer leaves the outcome
 * unknown.
 */
export type HttpOutcome =
  | { kind: 'response'; status: number; body: unknown; setCookie: string[] }
  /** No connection was made: the server never saw the request. */
  | { kind: 'refused'; code: string }
  /** Connected, but no response came back: the request may or may not have been applied. */
  | { kind: 'dropped'; code: string };

export interface SendOptions {
  body?: unknown;
  cookie?: string;
  csrf?: string;
  timeoutMs?: number;
}

export function send(
  baseUrl: string,
  method: string,
  path: string,
  options: SendOptions = {},
): Promise<HttpOutcome> {
  const url = new URL(path, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { connection: 'close', accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error: NodeJS.ErrnoException) =>
          finish({ kind: 'dropped', code: error.code ?? error.message }),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if (res.headers['content-type']?.includes('application/json') && text) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          const setCookie = res.headers['set-cookie'] ?? [];
          finish({ kind: 'response', status: res.statusCode ?? 0, body, setCookie });
        });
      },
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? error.message;
      finish(connected ? { kind: 'dropped', code } : { kind: 'refused', code });
    });
    req.end(payload);
  });
}

/** The `name=value` pair of a Set-Cookie line for `name`, if the response set it. */
export function cookieFrom(setCookie: string[], name: string): string | undefined {
  for (const line of setCookie) {
    const [pair] = line.split(';');
    if (pair.startsWith(`${name}=`)) return pair;
  }
  return undefined;
}
