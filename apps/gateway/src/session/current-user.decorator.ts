import { createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { SessionUser } from './session-user';
import './session.types';

/**
 * The logged-in user `{ id, email }` of the request. Use it on routes behind `SessionGuard`;
 * without a logged-in session it answers 401 as the guard does.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): SessionUser => {
    const request = context.switchToHttp().getRequest<Request>();
    const user = request.session?.user;
    if (!user) throw new UnauthorizedException('Not logged in');
    return { id: user.id, email: user.email };
  },
);
