import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { RedisLockStore } from './redis-lock-store';
import { TaskEventFactory } from './task-event.factory';
import { TaskListCache } from './task-list.cache';
import { TaskListReader } from './task-list.reader';
import { TaskOutboxStore } from './task-outbox.store';
import { TaskWriteLock } from './task-write-lock';
import { Task, TaskSchema } from './task.schema';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: Task.name, schema: TaskSchema }]),
    // BackgroundShare: bulk changes write within it.
    RateLimitModule,
  ],
  controllers: [TasksController],
  providers: [
    TasksService,
    TaskListCache,
    TaskListReader,
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
