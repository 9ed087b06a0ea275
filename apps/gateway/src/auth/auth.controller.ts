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
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { EmptyBodyDto } from '../common/empty-body.dto';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { FlashService } from '../session/flash.service';
import { AuthResponse, LoginDto, MeResponse, NoticesResponse, RegisterDto } from './auth.dto';
import { AuthService } from './auth.service';
import { newCsrfToken } from './csrf';
import { CurrentUser } from '../session/current-user.decorator';
import { SessionGuard } from '../session/session.guard';
import { regenerateSession, saveSession } from '../session/session-helpers';
import type { SessionUser } from '../session/session-user';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly flash: FlashService,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
  ) {}

  @Post('register')
  @HttpCode(HttpStatus.CREATED)
  @Header('Cache-Control', 'no-store')
  @ApiCreatedResponse({ type: AuthResponse, description: 'Registered and logged in' })
  @ApiConflictResponse({ description: 'Email taken' })
  async register(@Req() req: Request, @Body() body: RegisterDto): Promise<AuthResponse> {
    // Without Redis no session can be created: refuse before creating the account.
    this.assertSessionsAvailable();
    const user = await this.auth.register(body.email, body.password);
    return this.startSession(req, user, 'Welcome to Taskit');
  }

  @Post('login')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ type: AuthResponse, description: 'Logged in with a new session id' })
  @ApiUnauthorizedResponse({ description: 'Wrong credentials' })
  @ApiTooManyRequestsResponse({ description: 'Too many failed attempts (Retry-After)' })
  async login(@Req() req: Request, @Body() body: LoginDto): Promise<AuthResponse> {
    this.assertSessionsAvailable();
    const user = await this.auth.login(body.email, body.password, req.ip ?? 'unknown');
    return this.startSession(req, user, 'Welcome back');
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(SessionGuard)
  @ApiHeader({ name: 'X-CSRF-Token', required: true })
  @ApiNoContentResponse({ description: 'Session destroyed' })
  @ApiUnauthorizedResponse()
  @ApiForbiddenResponse({ description: 'Missing or wrong X-CSRF-Token' })
  async logout(@Req() req: Request, @Body() _body: EmptyBodyDto): Promise<void> {
    const oldId = req.sessionID;
    // regenerate = destroy the logged-in session in Redis (dead on every pod) and start an
    // anonymous one that only carries the "Signed out" notice for the login page.
    await regenerateSession(req);
    req.session.signedOutAt = Date.now();
    await saveSession(req);
    await this.flash.discard(oldId);
    await this.flash.push(req.sessionID, 'Signed out');
  }

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

  /** Login and registration: a new session id (no fixation), the user and a fresh CSRF token. */
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
    await saveSession(req);
    if (oldId !== req.sessionID) await this.flash.discard(oldId);
    await this.flash.push(req.sessionID, notice);
    return { user: { id: user.id, email: user.email }, csrfToken };
  }
}
