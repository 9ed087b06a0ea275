import { createKeyv } from '@keyv/redis';
import type { DeserializedData } from 'keyv';
import { CacheModule } from '@nestjs/cache-manager';
import { Logger, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { RedisLockStore } from './redis-lock-store';
import { TaskEventFactory } from './task-event.factory';
import { TaskListCache } from './task-list.cache';
import { TaskOutboxStore } from './task-outbox.store';
import { TaskWriteLock } from './task-write-lock';
import { Task, TaskSchema } from './task.schema';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [
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
  providers: [
    TasksService,
    TaskListCache,
    TaskEventFactory,
    TaskOutboxStore,
    {
      provide: TaskWriteLock,
      inject: [REDIS_CLIENT, ConfigService],
      useFactory: (redis: RedisClient, config: ConfigService<GatewayEnvironment, true>) =>
        new TaskWriteLock(new RedisLockStore(redis), config.get('REDIS_PREFIX', { infer: true })),
    },
  ],
  // The outbox relay's port onto the task documents (app.module.ts wires it in).
  exports: [TaskOutboxStore],
})
export class TasksModule {}
