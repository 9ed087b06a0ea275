import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { MongooseHealthIndicator } from '@nestjs/terminus';
import { boundedAttempt, type DependencyIndicator } from '@taskit/observability';
import type { Connection } from 'mongoose';

/** Required: every task, user and outbox read or write goes to MongoDB (docs/operations.md). */
@Injectable()
export class MongoHealthIndicator implements DependencyIndicator {
  readonly name = 'mongodb';
  readonly required = true;

  constructor(
    private readonly mongoose: MongooseHealthIndicator,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  check() {
    return boundedAttempt(this.mongoose.pingCheck(this.name, { connection: this.connection }));
  }
}
