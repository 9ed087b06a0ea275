import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { CSRF_HEADER, csrfTokenMatches, requiresCsrf } from './csrf';
import '../session/session.types';

/**
 * Global guard (APP_GUARD): every state-changing /api request except register and login needs
 * a logged-in session (401) and the session's CSRF token in X-CSRF-Token (403). Being global,
 * routes added later are covered without doing anything.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<Request>();
    if (!requiresCsrf(request.method, request.path)) return true;
    const session = request.session;
    if (!session?.user) throw new UnauthorizedException('Not logged in');
    if (!csrfTokenMatches(session.csrfToken, request.get(CSRF_HEADER))) {
      throw new ForbiddenException('Missing or invalid X-CSRF-Token header');
    }
    return true;
  }
}
