import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { installClosedSocketGuard } from './closed-socket-guard';

/**
 * The gateway's MongoDB connection (Mongoose), with the driver guard installed before the
 * driver opens its first socket (docs/adr/driver-guard.md). Its readiness check is
 * MongoHealthIndicator, beside this file.
 */
@Module({
  imports: [
    MongooseModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnvironment, true>) => {
        installClosedSocketGuard();
        return {
          uri: config.get('MONGODB_URI', { infer: true }),
          serverSelectionTimeoutMS: 5_000,
          maxPoolSize: config.get('MONGODB_MAX_POOL_SIZE', { infer: true }),
          autoIndex: true,
        };
      },
    }),
  ],
})
export class MongoDbModule {}
