import { Global, Module } from '@nestjs/common';
import { FlashService } from './flash.service';
import { SessionGuard } from './session.guard';
import { UserSessionsService } from './user-sessions.service';

@Global()
@Module({
  providers: [FlashService, SessionGuard, UserSessionsService],
  exports: [FlashService, SessionGuard, UserSessionsService],
})
export class SessionModule {}
