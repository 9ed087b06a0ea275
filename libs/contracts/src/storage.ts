/**
 * The MongoDB collection that holds each task with its outbox (docs/event-pipeline.md): the
 * gateway writes it, the doctor reads the backlog from it.
 */
export const TASKS_COLLECTION = 'tasks';
