import { NotFoundException, type PipeTransform } from '@nestjs/common';

/** A MongoDB ObjectId as 24 hex digits (ObjectId.isValid would also accept any 12 chars). */
export const OBJECT_ID_PATTERN = /^[0-9a-f]{24}$/i;

export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID_PATTERN.test(value);
}

/**
 * Validates a task id path parameter before it reaches MongoDB. A malformed id names no task,
 * so it answers 404 like any other missing task (the contract lists 404 for these routes).
 */
export class TaskIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isObjectIdString(value)) throw new NotFoundException('Task not found');
    return value.toLowerCase();
  }
}
