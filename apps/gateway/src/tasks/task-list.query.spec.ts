import { BadRequestException } from '@nestjs/common';
import { decodeCursor, encodeCursor, TaskListQueryPipe } from './task-list.query';

describe('the task-list query', () => {
  const pipe = new TaskListQueryPipe();
  const position = {
    createdAt: new Date('2026-12-04T12:00:00.123Z'),
    id: '665f1c2b9d3e4a0012345678',
  };

  it('defaults to every task, 500 to a page, from the start', () => {
    expect(pipe.transform({})).toEqual({ status: 'all', limit: 500, cursor: undefined });
    expect(pipe.transform(undefined)).toEqual({ status: 'all', limit: 500, cursor: undefined });
  });

  it('takes a status, a limit from 1 to 500 and a cursor it gave out', () => {
    const cursor = encodeCursor(position);
    expect(pipe.transform({ status: 'completed', limit: '1', cursor })).toEqual({
      status: 'completed',
      limit: 1,
      cursor: { text: cursor, after: position },
    });
    expect(pipe.transform({ limit: '500' }).limit).toBe(500);
  });

  it.each([
    { status: 'done' },
    { status: ['all', 'active'] },
    { limit: '0' },
    { limit: '501' },
    { limit: '007' },
    { limit: '1e2' },
    { limit: ' 5' },
    { cursor: '' },
    { cursor: 'x'.repeat(65) },
    { cursor: Buffer.from('123.not-an-object-id-at-all').toString('base64url') },
    { page: '2' },
  ])('refuses %j with a 400', (query) => {
    expect(() => pipe.transform(query)).toThrow(BadRequestException);
  });

  it('reads back exactly the cursors it makes, one text per position', () => {
    const text = encodeCursor(position);
    expect(decodeCursor(text)).toEqual(position);
    expect(decodeCursor(`${text}A`)).toBeUndefined();
    expect(decodeCursor(text.toUpperCase())).toBeUndefined();
  });
});
