import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { HealthIndicator } from '@taskit/observability';
import type { Connection } from 'mongoose';

@Injectable()
export class MongoHealthIndicator implements HealthIndicator {
  readonly name = 'mongodb';

  constructor(@InjectConnection() private readonly connection: Connection) {}

  async check(): Promise<void> {
    if (!this.connection.db) throw new Error('not connected');
    await this.connection.db.admin().ping();
  }
}
