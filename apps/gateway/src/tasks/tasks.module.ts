import { createKeyv } from '@keyv/redis';
import type { DeserializedData } from 'keyv';
import { CacheModule } from '@nestjs/cache-manager';
import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { Task, TaskSchema } from './task.schema';
import { TaskListCache } from './task-list.cache';
import { TasksController } from './tasks.controller';
import { TaskWriteLockModule } from './task-write-lock.module';
import { TasksService } from './tasks.service';

@Module({
  imports: [
    TaskWriteLockModule,
    MongooseModule.forFeature([{ name: Task.name, schema: TaskSchema }]),
    CacheModule.registerAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnvironment, true>) => {
        const logger = new Logger('TaskListCache');
        // Its own connection: @keyv/redis brings its own node-redis major version.
        const keyv = createKeyv(
          {
            url: config.get('REDIS_URL', { infer: true }),
            disableOfflineQueue: true,
            socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
          },
          {
            namespace: `${config.get('REDIS_PREFIX', { infer: true })}cache`,
            throwOnConnectError: false,
            connectionTimeout: 1_000,
          },
        );
        keyv.on('error', (error: unknown) => logger.warn(`cache: ${String(error)}`));
        // Plain JSON: Keyv's default parser runs a reviver over every value (for Buffers and
        // ':'-escaped strings, which task lists never hold): 17% of the gateway's CPU when
        // serving cached lists (npm run bench, --cpu-prof).
        keyv.serialize = (data) => JSON.stringify(data);
        keyv.deserialize = <Value>(data: string) => JSON.parse(data) as DeserializedData<Value>;
        return { stores: [keyv] };
      },
    }),
  ],
  controllers: [TasksController],
  providers: [TasksService, TaskListCache],
})
export class TasksModule {}
