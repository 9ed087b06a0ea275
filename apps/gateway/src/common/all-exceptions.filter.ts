import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { isServiceUnavailableError } from './infrastructure-errors';

/** The contract's error body (docs/api.md, HTTP API). */
export interface ErrorBody {
  statusCode: number;
  message: string;
  error: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function reasonFor(status: number): string {
  return REASONS[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}

/** Turns any exception into `{statusCode, message, error}`, never exposing stacks or internals. */
export function toErrorBody(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    return { statusCode, message: messageOf(exception), error: reasonFor(statusCode) };
  }
  if (isServiceUnavailableError(exception)) {
    const statusCode = HttpStatus.SERVICE_UNAVAILABLE;
    return {
      statusCode,
      message: 'A backing service is unavailable; try again shortly',
      error: reasonFor(statusCode),
    };
  }
  const statusCode = HttpStatus.INTERNAL_SERVER_ERROR;
  return { statusCode, message: 'Internal server error', error: reasonFor(statusCode) };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request>();
    const body = toErrorBody(exception);
    if (body.statusCode >= 500) {
      const detail =
        exception instanceof Error ? (exception.stack ?? exception.message) : exception;
      this.logger.error(`${request.method} ${request.originalUrl}: ${String(detail)}`);
    }
    if (response.headersSent) return;
    if (exception instanceof HttpException) {
      const retryAfter = (exception.getResponse() as { retryAfterSeconds?: unknown })
        .retryAfterSeconds;
      if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    }
    if (body.statusCode === 503 && !response.hasHeader('Retry-After')) {
      response.setHeader('Retry-After', '1');
    }
    response.status(body.statusCode).json(body);
  }
}
