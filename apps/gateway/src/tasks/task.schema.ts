import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, type Model, type mongo, type Types } from 'mongoose';
import type { OutboxEntry } from '../outbox/outbox.port';
import { TASKS_COLLECTION, type OutboxFields } from './task-outbox';

/**
 * One pending event in a task's embedded outbox (docs/api.md, Events on the wire body, stored as is) with
 * the trace context of the request that recorded it (outbox.port.ts OutboxEntry).
 */
const OutboxEventSchema = new MongooseSchema<OutboxEntry>(
  {
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    taskId: { type: String, required: true },
    userId: { type: String, required: true },
    occurredAt: { type: String, required: true },
    version: { type: Number, required: true },
    traceparent: { type: String },
  },
  { _id: false },
);

/**
 * A task (collection `tasks`) with its outbox (task-outbox.ts): `deletedAt` marks a tombstone
 * that the API treats as missing everywhere, removed once its `task.deleted` is published.
 */
@Schema({ collection: TASKS_COLLECTION, strict: true, versionKey: false })
export class Task implements OutboxFields {
  @Prop({ type: MongooseSchema.Types.ObjectId, required: true })
  userId!: Types.ObjectId;

  @Prop({ type: String, required: true })
  title!: string;

  @Prop({ type: Boolean, required: true, default: false })
  done!: boolean;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, required: true })
  updatedAt!: Date;

  @Prop({ type: Date, default: null })
  deletedAt?: Date | null;

  @Prop({ type: [OutboxEventSchema], default: [] })
  outbox!: OutboxEntry[];

  @Prop({ type: Boolean, default: false })
  outboxPending!: boolean;

  @Prop({ type: Date })
  outboxSince?: Date;
}

export const TaskSchema = SchemaFactory.createForClass(Task);
// The list query: a user's live tasks, optionally by state, oldest first.
TaskSchema.index({ userId: 1, deletedAt: 1, createdAt: 1, _id: 1 });
TaskSchema.index({ userId: 1, deletedAt: 1, done: 1, createdAt: 1, _id: 1 });
// The relay's sweep: documents with pending events, oldest first.
TaskSchema.index({ outboxPending: 1, outboxSince: 1 });

/**
 * The driver's collection behind the model, typed by the stored shape: the tasks module writes
 * through it, its filters and updates already in that shape (tasks.service.ts).
 */
export function taskCollection(model: Model<Task>): mongo.Collection<Task> {
  return model.collection as unknown as mongo.Collection<Task>;
}
