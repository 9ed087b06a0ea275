import type { Types } from 'mongoose';
import type { TaskView } from './task.dto';

/** The stored fields the API shows; outbox fields and tombstones never leave the service. */
export interface StoredTask {
  _id: Types.ObjectId;
  title: string;
  done: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const TASK_VIEW_PROJECTION = { _id: 1, title: 1, done: 1, createdAt: 1, updatedAt: 1 };

export function toTaskView(task: StoredTask): TaskView {
  return {
    id: task._id.toHexString(),
    title: task.title,
    done: task.done,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}
