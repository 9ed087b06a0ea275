import { BadRequestException, Injectable, UnauthorizedException } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { normaliseEmail } from '../users/email';
import { LoginThrottleService } from './login-throttle.service';
import { isGuessablePassword } from './password-policy';
import { PasswordService } from './password.service';
import { RegistrationThrottleService } from './registration-throttle.service';
import type { SessionUser } from '../session/session-user';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly loginThrottle: LoginThrottleService,
    private readonly registrationThrottle: RegistrationThrottleService,
  ) {}

  /** 429 once the client's or everyone's sign-up budget is spent, 409 when the email is taken. */
  async register(email: string, password: string, client: string): Promise<SessionUser> {
    await this.registrationThrottle.reserve(client);
    const passwordHash = await this.passwords.hash(password);
    const user = await this.users.create(email, passwordHash);
    return { id: user.id, email: user.email };
  }

  /**
   * 429 while throttled, 401 for wrong credentials (the same for an unknown email). The attempt
   * is reserved before the password is verified, so a parallel burst is counted in full.
   */
  async login(email: string, password: string, client: string): Promise<SessionUser> {
    const normalised = normaliseEmail(email);
    await this.loginThrottle.reserve(normalised, client);
    const user = await this.users.findByEmail(normalised);
    const valid = user
      ? await this.passwords.verify(user.passwordHash, password)
      : await this.passwords.verifyNothing(password);
    if (!user || !valid) throw new UnauthorizedException('Wrong email or password');
    await this.loginThrottle.succeeded(normalised, client);
    return { id: user.id, email: user.email };
  }

  /**
   * Replaces the password of a logged-in user, given the current one (401 when wrong; guesses
   * count against the login budgets like logins do).
   */
  async changePassword(
    user: SessionUser,
    currentPassword: string,
    newPassword: string,
    client: string,
  ): Promise<void> {
    if (isGuessablePassword(newPassword, user.email)) {
      throw new BadRequestException('newPassword is too common or easy to guess');
    }
    await this.loginThrottle.reserve(user.email, client);
    const stored = await this.users.findById(user.id);
    if (!stored || !(await this.passwords.verify(stored.passwordHash, currentPassword))) {
      throw new UnauthorizedException('Wrong current password');
    }
    await this.loginThrottle.succeeded(user.email, client);
    await this.users.setPasswordHash(user.id, await this.passwords.hash(newPassword));
  }
}
