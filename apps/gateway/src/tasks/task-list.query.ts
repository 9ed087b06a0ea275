import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { OBJECT_ID_PATTERN } from '../common/object-id.pipe';
import { TASK_STATUSES, type TaskStatus } from './task.dto';

export const PAGE_LIMIT_MAX = 500;

/** Where a page starts: after the task with this creation time and id (docs/api.md, Pagination). */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

/** A validated `GET /api/tasks` query. */
export interface TaskListQuery {
  status: TaskStatus;
  limit: number;
  /** The cursor as the client sent it (it is part of the cache key) and what it names. */
  cursor?: { text: string; after: PagePosition };
}

/** A cursor is the last task's creation time (ms) and id, base64url: opaque to clients. */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.id}`).toString('base64url');
}

const CURSOR_TEXT = /^[A-Za-z0-9_-]{1,64}$/;
const CURSOR_CONTENT = /^(\d{1,15})\.([0-9a-f]{24})$/;

/** The position a cursor this API gave out names, or undefined for any other string. */
export function decodeCursor(text: string): PagePosition | undefined {
  if (!CURSOR_TEXT.test(text)) return undefined;
  const match = CURSOR_CONTENT.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match || !OBJECT_ID_PATTERN.test(match[2])) return undefined;
  // Re-encoding must give the same text, so that one position has one cache key.
  const position = { createdAt: new Date(Number(match[1])), id: match[2] };
  return encodeCursor(position) === text ? position : undefined;
}

const LIMIT_TEXT = /^[1-9]\d{0,2}$/;
const STATUS_SET: ReadonlySet<string> = new Set(TASK_STATUSES);
const KEYS: ReadonlySet<string> = new Set(['status', 'limit', 'cursor']);

/**
 * The list query checked by hand, field by field: a few string comparisons instead of a
 * class-validator pass on the hottest route, with the same answers (400 for an unknown key,
 * a repeated key, a wrong value). The global pipe has already refused operator keys.
 */
export class TaskListQueryPipe implements PipeTransform<unknown, TaskListQuery> {
  transform(value: unknown): TaskListQuery {
    const query = (value ?? {}) as Record<string, unknown>;
    let status: TaskStatus = 'all';
    let limit = PAGE_LIMIT_MAX;
    let cursor: TaskListQuery['cursor'];
    for (const key in query) {
      if (!KEYS.has(key)) throw new BadRequestException(`property ${key} should not exist`);
      const text = query[key];
      if (typeof text !== 'string') throw new BadRequestException(`${key} must be given once`);
      if (key === 'status') {
        if (!STATUS_SET.has(text)) {
          throw new BadRequestException(`status must be one of ${TASK_STATUSES.join(', ')}`);
        }
        status = text as TaskStatus;
      } else if (key === 'limit') {
        if (!LIMIT_TEXT.test(text) || Number(text) > PAGE_LIMIT_MAX) {
          throw new BadRequestException(`limit must be a whole number from 1 to ${PAGE_LIMIT_MAX}`);
        }
        limit = Number(text);
      } else {
        const after = decodeCursor(text);
        if (!after) throw new BadRequestException('cursor must be a nextCursor of this list');
        cursor = { text, after };
      }
    }
    return { status, limit, cursor };
  }
}
