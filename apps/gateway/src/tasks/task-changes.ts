import type { TaskEventType } from '@taskit/contracts';

export interface TaskState {
  title: string;
  done: boolean;
}

export interface TaskPatch {
  title?: string;
  done?: boolean;
}

/**
 * What a PATCH really changes and the events it causes (docs/api.md, Events on the wire): `task.updated`
 * when the title changes, `task.completed`/`task.uncompleted` when `done` flips, nothing for a
 * PATCH that changes nothing.
 */
export function planPatch(
  current: TaskState,
  patch: TaskPatch,
): { set: Partial<TaskState>; events: TaskEventType[] } {
  const set: Partial<TaskState> = {};
  const events: TaskEventType[] = [];
  if (patch.title !== undefined && patch.title !== current.title) {
    set.title = patch.title;
    events.push('task.updated');
  }
  if (patch.done !== undefined && patch.done !== current.done) {
    set.done = patch.done;
    events.push(patch.done ? 'task.completed' : 'task.uncompleted');
  }
  return { set, events };
}
