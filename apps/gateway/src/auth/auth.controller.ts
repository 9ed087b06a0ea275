import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiEmptyBody, EmptyBodyDto } from '../common/empty-body.dto';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { FlashService } from '../session/flash.service';
import {
  AuthResponse,
  ChangePasswordDto,
  LoginDto,
  MeResponse,
  NoticesResponse,
  RegisterDto,
} from './auth.dto';
import { AuthService } from './auth.service';
import { ApiCsrfToken, CsrfExempt, newCsrfToken } from './csrf';
import { SameOriginGuard } from './same-origin.guard';
import { CurrentUser } from '../session/current-user.decorator';
import { SessionGuard } from '../session/session.guard';
import { regenerateSession, saveSession } from '../session/session-helpers';
import type { SessionUser } from '../session/session-user';
import { UserSessionsService } from '../session/user-sessions.service';

/** The client address the throttles count by (`trust proxy` makes it the real client's). */
const clientOf = (req: Request) => req.ip ?? 'unknown';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly flash: FlashService,
    private readonly sessions: UserSessionsService,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {}

  @ApiOperation({ summary: 'Create an account and sign in', security: [] })
  @ApiBadRequestResponse({ description: 'Invalid email or password' })
  @Post('register')
  @CsrfExempt()
  @UseGuards(SameOriginGuard)
  @HttpCode(HttpStatus.CREATED)
  @Header('Cache-Control', 'no-store')
  @ApiCreatedResponse({ type: AuthResponse, description: 'Registered and logged in' })
  @ApiConflictResponse({ description: 'Email taken' })
  @ApiForbiddenResponse({ description: 'Sent from another site' })
  @ApiTooManyRequestsResponse({ description: 'Too many sign-ups (Retry-After)' })
  async register(@Req() req: Request, @Body() body: RegisterDto): Promise<AuthResponse> {
    // Without Redis no session can be created: refuse before creating the account.
    this.assertSessionsAvailable();
    const user = await this.auth.register(body.email, body.password, clientOf(req));
    return this.startSession(req, user, 'Welcome to Taskit');
  }

  @ApiOperation({ summary: 'Sign in with a new session', security: [] })
  @ApiBadRequestResponse({ description: 'Invalid body' })
  @Post('login')
  @CsrfExempt()
  @UseGuards(SameOriginGuard)
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: AuthResponse, description: 'Logged in with a new session id' })
  @ApiUnauthorizedResponse({ description: 'Wrong credentials' })
  @ApiForbiddenResponse({ description: 'Sent from another site' })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts (Retry-After)' })
  async login(@Req() req: Request, @Body() body: LoginDto): Promise<AuthResponse> {
    this.assertSessionsAvailable();
    const user = await this.auth.login(body.email, body.password, clientOf(req));
    return this.startSession(req, user, 'Welcome back');
  }

  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @ApiOperation({ summary: 'Sign out: end this session' })
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(SessionGuard)
  @ApiCsrfToken()
  @ApiEmptyBody()
  @ApiNoContentResponse({ description: 'Session destroyed' })
  @ApiUnauthorizedResponse()
  @ApiForbiddenResponse({ description: 'Missing or wrong X-CSRF-Token' })
  async logout(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() _body: EmptyBodyDto,
  ): Promise<void> {
    const oldId = req.sessionID;
    await this.sessions.remove(user.id, oldId);
    // regenerate = destroy the logged-in session in Redis (dead on every pod) and start an
    // anonymous one that only carries the "Signed out" notice for the login page.
    await regenerateSession(req);
    req.session.signedOutAt = Date.now();
    await saveSession(req);
    await this.flash.discard(oldId);
    await this.flash.push(req.sessionID, 'Signed out');
  }

  @ApiOperation({ summary: 'Change the password; every other session ends' })
  @ApiBadRequestResponse({ description: 'Invalid or too weak new password' })
  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(SessionGuard)
  @ApiCsrfToken()
  @ApiNoContentResponse({ description: 'Changed; every other session of the user ended' })
  @ApiUnauthorizedResponse({ description: 'Not logged in, or wrong current password' })
  @ApiForbiddenResponse({ description: 'Missing or wrong X-CSRF-Token' })
  @ApiTooManyRequestsResponse({ description: 'Too many wrong passwords (Retry-After)' })
  async changePassword(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() body: ChangePasswordDto,
  ): Promise<void> {
    await this.auth.changePassword(user, body.currentPassword, body.newPassword, clientOf(req));
    await this.sessions.endOthers(user.id, req.sessionID);
    await this.flash.push(req.sessionID, 'Password changed; other sessions signed out');
  }

  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @ApiOperation({ summary: 'End every other session of this user' })
  @Post('sessions/revoke-others')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(SessionGuard)
  @ApiCsrfToken()
  @ApiEmptyBody()
  @ApiNoContentResponse({ description: 'Every other session of the user ended' })
  @ApiUnauthorizedResponse()
  @ApiForbiddenResponse({ description: 'Missing or wrong X-CSRF-Token' })
  async revokeOtherSessions(
    @Req() req: Request,
    @CurrentUser() user: SessionUser,
    @Body() _body: EmptyBodyDto,
  ): Promise<void> {
    await this.sessions.endOthers(user.id, req.sessionID);
  }

  @ApiOperation({ summary: 'The signed-in user, a CSRF token and pending notices' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Get('me')
  @UseGuards(SessionGuard)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: MeResponse })
  @ApiUnauthorizedResponse()
  async me(@Req() req: Request, @CurrentUser() user: SessionUser): Promise<MeResponse> {
    const notices = await this.flash.consume(req.sessionID);
    return { user, csrfToken: req.session.csrfToken ?? '', notices };
  }

  /** The pending flash notices of any session, logged in or not (e.g. "Signed out"). */
  @ApiOperation({ summary: 'Pending notices of any session', security: [] })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @Get('notices')
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: NoticesResponse })
  async notices(@Req() req: Request): Promise<NoticesResponse> {
    return { notices: await this.flash.consume(req.sessionID) };
  }

  private assertSessionsAvailable(): void {
    if (!this.redis.isReady) {
      throw new ServiceUnavailableException('Sessions are unavailable; try again shortly');
    }
  }

  /**
   * Login and registration: a new session id (no fixation), dated for its absolute lifetime and
   * listed among the user's sessions, the user and a fresh CSRF token.
   */
  private async startSession(
    req: Request,
    user: SessionUser,
    notice: string,
  ): Promise<AuthResponse> {
    const oldId = req.sessionID;
    await regenerateSession(req);
    const csrfToken = newCsrfToken();
    req.session.user = { id: user.id, email: user.email };
    req.session.csrfToken = csrfToken;
    req.session.authenticatedAt = Date.now();
    await saveSession(req);
    await this.sessions.add(user.id, req.sessionID);
    if (oldId !== req.sessionID) await this.flash.discard(oldId);
    await this.flash.push(req.sessionID, notice);
    return { user: { id: user.id, email: user.email }, csrfToken };
  }
}
