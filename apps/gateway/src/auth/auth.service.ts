import { Injectable, UnauthorizedException } from '@nestjs/common';
import { UsersService } from '../users/users.service';
import { normaliseEmail } from '../users/email';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordService } from './password.service';
import type { SessionUser } from '../session/session-user';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly throttle: LoginThrottleService,
  ) {}

  async register(email: string, password: string): Promise<SessionUser> {
    const passwordHash = await this.passwords.hash(password);
    const user = await this.users.create(email, passwordHash);
    return { id: user.id, email: user.email };
  }

  /** 429 while throttled, 401 for wrong credentials (the same for an unknown email). */
  async login(email: string, password: string, client: string): Promise<SessionUser> {
    const normalised = normaliseEmail(email);
    await this.throttle.assertAllowed(normalised, client);
    const user = await this.users.findByEmail(normalised);
    const valid = user
      ? await this.passwords.verify(user.passwordHash, password)
      : await this.passwords.verifyNothing(password);
    if (!user || !valid) {
      await this.throttle.recordFailure(normalised, client);
      throw new UnauthorizedException('Wrong email or password');
    }
    await this.throttle.recordSuccess(normalised, client);
    return { id: user.id, email: user.email };
  }
}
