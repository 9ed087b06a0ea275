import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { CSRF_EXEMPT, CSRF_HEADER, csrfTokenMatches, requiresCsrf } from './csrf';
import '../session/session.types';

/**
 * Global guard (APP_GUARD): every state-changing route except those marked @CsrfExempt()
 * needs a logged-in session (401) and the session's CSRF token in X-CSRF-Token (403). It
 * decides on the matched route, never on the request's path, so no spelling of a path escapes
 * it; routes added later are covered without doing anything.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    const exempt = this.reflector.getAllAndOverride<boolean | undefined>(CSRF_EXEMPT, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!requiresCsrf(request.method, exempt === true)) return true;
    const session = request.session;
    if (!session?.user) throw new UnauthorizedException('Not logged in');
    if (!csrfTokenMatches(session.csrfToken, request.get(CSRF_HEADER))) {
      throw new ForbiddenException('Missing or invalid X-CSRF-Token header');
    }
    return true;
  }
}
