import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { traceFields } from './trace-context.ts';

export const REQUEST_ID_HEADER = 'x-request-id';
/** Accept a caller's request id only when it looks like one, so logs cannot be forged. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** The caller's X-Request-Id when it looks like one, otherwise a new id. */
function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)
    ? incoming
    : randomUUID();
}

function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdOf(req);
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

/** pino-http's settings: one line per request with its id; probes and scrapes are not logged. */
function requestLogOptions(service: string, level: string): Options {
  return {
    level,
    base: { service },
    messageKey: 'message',
    // Lines written inside a span carry its ids (docs/tracing.md).
    mixin: traceFields,
    genReqId: requestIdFor,
    customAttributeKeys: { reqId: 'requestId' },
    autoLogging: { ignore: (req) => QUIET_PATHS.includes(req.url ?? '') },
    redact: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]'],
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
}

/** Structured JSON logs through nestjs-pino, with one line per request (requestLogOptions). */
export function structuredLogging(service: string, level: string) {
  return LoggerModule.forRoot({ pinoHttp: requestLogOptions(service, level) });
}
