import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { CsrfGuard } from './csrf.guard';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordService } from './password.service';
import { RegistrationThrottleService } from './registration-throttle.service';
import { SameOriginGuard } from './same-origin.guard';

@Module({
  imports: [UsersModule],
  controllers: [AuthController],
  providers: [
    AuthService,
    PasswordService,
    LoginThrottleService,
    RegistrationThrottleService,
    SameOriginGuard,
    { provide: APP_GUARD, useClass: CsrfGuard },
  ],
})
export class AuthModule {}
