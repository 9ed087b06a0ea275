import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { isSameOrigin } from './same-origin';

/**
 * For the routes that take no CSRF token because they create a session (register, login): a
 * request from another site is refused (403), so that a page elsewhere cannot log a visitor's
 * browser into the attacker's account (login CSRF).
 */
@Injectable()
export class SameOriginGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const allowed = isSameOrigin({
      secFetchSite: request.get('sec-fetch-site'),
      origin: request.get('origin'),
      host: request.get('host'),
    });
    if (!allowed) throw new ForbiddenException('Cross-site request refused');
    return true;
  }
}
