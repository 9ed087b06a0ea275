import { Global, Module } from '@nestjs/common';
import { FlashService } from './flash.service';
import { SessionGuard } from './session.guard';

@Global()
@Module({ providers: [FlashService, SessionGuard], exports: [FlashService, SessionGuard] })
export class SessionModule {}
