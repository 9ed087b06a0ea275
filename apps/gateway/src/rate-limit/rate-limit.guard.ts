import {
  HttpException,
  HttpStatus,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import onFinished from 'on-finished';
import type { Counter } from 'prom-client';
import '../session/session.types';
import type { BackgroundShare } from './background-share';
import { BULK_OPERATION } from './bulk-operation.decorator';
import type { InFlightPerUser } from './in-flight-per-user';
import type { RateLimitName, RateLimits } from './rate-limits';

export class TooManyRequestsException extends HttpException {
  constructor(retryAfterSeconds: number) {
    super(
      { message: `Too many requests; try again in ${retryAfterSeconds} s`, retryAfterSeconds },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** A controller whose routes start with `api/`: the API (pages, health and metrics are not). */
function isApiController(path: unknown): boolean {
  const paths: unknown[] = Array.isArray(path) ? path : [path];
  return paths.some((p) => typeof p === 'string' && /^\/?api(\/|$)/.test(p));
}

/**
 * Global guard (APP_GUARD): every API route spends the per-client budget, and with a logged-in
 * session the per-user one (and the bulk one on @BulkOperation routes); beyond any of them 429
 * with Retry-After (docs/limits.md). A logged-in user's request then also takes one of the
 * user's places in flight on this pod (InFlightPerUser), freed when its answer is sent, and an
 * admitted request other than a bulk change counts as served for the BackgroundShare. API
 * routes are recognised by their controller's declared path, not by the request's, so no
 * casing or slash variant of a URL escapes the limit.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly apiControllers = new WeakMap<object, boolean>();

  constructor(
    private readonly limits: RateLimits,
    private readonly reflector: Reflector,
    private readonly inFlight: InFlightPerUser,
    private readonly refused: Counter<'limit'>,
    private readonly share: BackgroundShare,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http' || !this.isApi(context.getClass())) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const userId = request.session?.user?.id;
    const bulk =
      this.reflector.get<boolean | undefined>(BULK_OPERATION, context.getHandler()) === true;
    const decision = await this.limits.consume({
      clientAddress: request.ip ?? request.socket.remoteAddress ?? 'unknown',
      userId,
      bulk,
    });
    if (!decision.allowed) {
      this.refused.inc({ limit: decision.limit satisfies RateLimitName });
      throw new TooManyRequestsException(decision.retryAfterSeconds);
    }
    if (userId !== undefined && !this.inFlight.tryEnter(userId)) {
      this.refused.inc({ limit: 'in-flight' });
      throw new TooManyRequestsException(1);
    }
    // A bulk change is background work itself; any other request narrows it while served.
    const served = bulk ? undefined : this.share.serve();
    // Once the answer is sent or the client went away, whatever ran meanwhile; at once when the
    // client left while the budgets were checked (its 'close' came before any listener).
    onFinished(context.switchToHttp().getResponse<Response>(), () => {
      if (userId !== undefined) this.inFlight.leave(userId);
      served?.();
    });
    return true;
  }

  private isApi(controller: object): boolean {
    let api = this.apiControllers.get(controller);
    if (api === undefined) {
      api = isApiController(Reflect.getMetadata(PATH_METADATA, controller));
      this.apiControllers.set(controller, api);
    }
    return api;
  }
}
