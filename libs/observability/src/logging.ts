import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { traceFields } from './trace-context.ts';

const REQUEST_ID_HEADER = 'x-request-id';
/** Accept a caller's request id only when it looks like one, so logs cannot be forged. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id =
    typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

const QUIET_PATHS = ['/health/live', '/health/ready', '/metrics'];

/** Structured JSON logs, one line per request with its id; probes and scrapes are not logged. */
export function structuredLogging(service: string, level: string) {
  return LoggerModule.forRoot({
    pinoHttp: {
      level,
      base: { service },
      messageKey: 'message',
      // Lines written inside a span carry its ids (CONTRACT section 10).
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
    },
  });
}
