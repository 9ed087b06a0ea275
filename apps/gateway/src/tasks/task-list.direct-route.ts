import { IncomingMessage, ServerResponse, type Server } from 'node:http';
import { Socket } from 'node:net';
import {
  markRoute,
  REQUEST_ID_HEADER,
  requestIdOf,
  type HttpDurationHistogram,
} from '@taskit/observability';
import { startTime } from 'pino-http';
import { Counter, type Registry } from 'prom-client';
import type { SessionReader } from '../session/session-reader';
import { TASK_STATUSES, type TaskStatus, type TaskView } from './task.dto';
import type { TaskListCache } from './task-list.cache';

/** A connect-style middleware, as helmet, compression and pino-http are. */
export type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** What the Nest path puts around every answer (bootstrap.ts), for the direct route to do the same. */
export interface AnswerMiddleware {
  /** helmet's headers as it sets them on every answer, `[name, value, …]` (headersSetBy). */
  securityHeaders: readonly string[];
  compression: Middleware;
  /** pino-http as nestjs-pino runs it; absent when request lines are not logged (requestLogging). */
  requestLogging?: Middleware;
}

const ROUTE = '/api/tasks';
/** The route's own headers, `[name, value, …]`: @Header('Cache-Control') and res.json's type. */
const LIST_HEADERS = [
  'Cache-Control',
  'no-store',
  'Content-Type',
  'application/json; charset=utf-8',
];

function setHeaders(res: ServerResponse, headers: readonly string[]): void {
  for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i], headers[i + 1]);
}

/** Exactly the URLs whose query ListTasksQuery accepts as they are; any other goes to Nest. */
const STATUS_BY_URL = new Map<string, TaskStatus>([
  [ROUTE, 'all'],
  ...TASK_STATUSES.map((status): [string, TaskStatus] => [`${ROUTE}?status=${status}`, status]),
]);

/** The status a direct read of this request would list, or undefined when it is not one. */
export function directReadStatus(req: IncomingMessage): TaskStatus | undefined {
  if (req.method !== 'GET') return undefined;
  // A GET with a body is for Nest's body rules (415, 413), not for this route.
  if (req.headers['content-length'] !== undefined) return undefined;
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  return STATUS_BY_URL.get(req.url ?? '');
}

/** A blank response that keeps the names of its headers as they were set. */
class RecordingResponse extends ServerResponse {
  readonly headers = new Map<string, [string, string]>();

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.headers.set(name.toLowerCase(), [name, String(value)]);
    return super.setHeader(name, value);
  }

  override removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
    super.removeHeader(name);
  }
}

/**
 * The headers a middleware sets on an answer, `[name, value, …]` in its order, read by running
 * it once on a blank response: for helmet, whose headers do not depend on the request.
 */
export function headersSetBy(middleware: Middleware): string[] {
  const res = new RecordingResponse(new IncomingMessage(new Socket()));
  let passedOn = false;
  middleware(res.req, res, () => (passedOn = true));
  if (!passedOn) throw new Error('the middleware did not pass the request on');
  return [...res.headers.values()].flat();
}

/**
 * `GET /api/tasks` answered from the task-list cache before Express and Nest see the request:
 * the gateway's hottest request, whose framework cost (routing, express-session, the
 * validation pipe, the exception zone) was over half of its CPU (README, "Read path").
 *
 * It serves only what it can answer exactly as the Nest route would, and hands everything
 * else to Express before writing a byte: another URL or method, a body, no valid session
 * cookie, an anonymous session or one due for renewal (express-session must save it and send
 * the cookie), a cache miss, any error. What it serves is the cached list the Nest route
 * would return, as `res.json` writes it, with helmet's headers, compression's `Vary` and
 * encoding, the request id and the request log line of the Nest path;
 * `apps/gateway/test/task-list-direct-route.e2e-spec.ts` compares both answers. Middleware
 * added to the gateway (bootstrap.ts) that changes API answers belongs here too.
 */
export class TaskListDirectRoute {
  // Labelled once, not per request.
  private readonly servedDuration: ReturnType<HttpDurationHistogram['labels']>;
  private readonly served: ReturnType<Counter['labels']>;
  private readonly handedOver: ReturnType<Counter['labels']>;

  constructor(
    private readonly sessions: SessionReader,
    private readonly cache: TaskListCache,
    private readonly answer: AnswerMiddleware,
    metrics: { duration: HttpDurationHistogram; registry: Registry },
  ) {
    this.servedDuration = metrics.duration.labels('GET', ROUTE, '200');
    const results = new Counter({
      name: 'gateway_direct_reads_total',
      help: 'GET /api/tasks reads the direct route served, or handed over to Nest',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
    this.served = results.labels('served');
    this.handedOver = results.labels('handed_over');
    this.served.inc(0);
    this.handedOver.inc(0);
  }

  /** Puts the route in front of the server's handler (Express): what it does not serve goes on. */
  installOn(server: Server): void {
    const handlers = server.listeners('request') as ((
      req: IncomingMessage,
      res: ServerResponse,
    ) => void)[];
    if (handlers.length !== 1)
      throw new Error(`expected one request handler, found ${handlers.length}`);
    const [express] = handlers;
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.serve(req, res).then(
        (served) => served || express(req, res),
        () => (res.headersSent ? res.destroy() : express(req, res)),
      );
    });
  }

  /** True when the request was answered here; false when it must go to Express untouched. */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const status = directReadStatus(req);
    if (status === undefined) return false;
    // The request log line times the request from its arrival, whichever path answers it
    // (pino-http keeps a start time it finds).
    res[startTime] = Date.now();
    const observeDuration = this.servedDuration.startTimer();
    let tasks: TaskView[] | undefined;
    try {
      const user = await this.sessions.userOf(req);
      if (user !== undefined) tasks = await this.cache.cached(user.id, status);
    } catch {
      // The Nest route meets the same failure and answers it (503 and its log line).
    }
    if (tasks === undefined) {
      this.handedOver.inc();
      return false;
    }
    this.served.inc();
    res.once('finish', () => observeDuration());
    // The span is named by the route, as on the Nest path.
    markRoute(req, ROUTE);
    this.write(req, res, JSON.stringify({ tasks }));
    return true;
  }

  /**
   * In the Nest path's header order: helmet's, the request id (pino-http), Cache-Control
   * (@Header), res.json's type and length, then compression's Vary when the head is written.
   */
  private write(req: IncomingMessage, res: ServerResponse, body: string): void {
    const { securityHeaders, compression, requestLogging } = this.answer;
    const length = String(Buffer.byteLength(body));
    if (req.headers['accept-encoding'] === undefined && requestLogging === undefined) {
      // Without Accept-Encoding compression only adds Vary, and without request lines
      // pino-http only sets the id: one head, no middleware.
      res.writeHead(200, [
        ...securityHeaders,
        REQUEST_ID_HEADER,
        requestIdOf(req),
        ...LIST_HEADERS,
        'Content-Length',
        length,
        'Vary',
        'Accept-Encoding',
      ]);
      res.end(body);
      return;
    }
    setHeaders(res, securityHeaders);
    const respond = () => {
      res.statusCode = 200;
      setHeaders(res, LIST_HEADERS);
      res.setHeader('Content-Length', length);
      res.end(body);
    };
    compression(req, res, (error) => {
      if (error !== undefined) return void res.destroy();
      if (requestLogging === undefined) {
        res.setHeader(REQUEST_ID_HEADER, requestIdOf(req));
        return respond();
      }
      requestLogging(req, res, (error) => (error === undefined ? respond() : res.destroy()));
    });
  }
}
