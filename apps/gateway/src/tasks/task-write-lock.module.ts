import { Global, Module } from '@nestjs/common';
import { TaskWriteLock } from './task-write-lock';

/**
 * Global so that every writer of task documents (the tasks API and the outbox relay in
 * events/) can inject the same per-user lock without importing TasksModule.
 */
@Global()
@Module({ providers: [TaskWriteLock], exports: [TaskWriteLock] })
export class TaskWriteLockModule {}
