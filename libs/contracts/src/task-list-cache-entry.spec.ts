import { bodyOfTaskListCacheEntry, toTaskListCacheEntry } from './task-list-cache-entry.ts';

describe('a cached task-list page', () => {
  const body = JSON.stringify({
    tasks: [{ id: '665f1c2b9d3e4a0012345678', title: 'Milch 🥛', done: false }],
    nextCursor: null,
    counts: { active: 1, completed: 0 },
  });

  it('gives back the body it was made from', () => {
    expect(bodyOfTaskListCacheEntry(toTaskListCacheEntry(body))).toBe(body);
    expect(bodyOfTaskListCacheEntry(toTaskListCacheEntry(''))).toBe('');
  });

  it.each([
    ['cut short', (entry: string) => entry.slice(0, -1)],
    ['one character changed', (entry: string) => entry.replace('false', 'fals3')],
    ['a character added', (entry: string) => `${entry} `],
    ['the checksum changed', (entry: string) => `${entry[0] === 'f' ? 'e' : 'f'}${entry.slice(1)}`],
    ['no separator', (entry: string) => entry.replace(':', '')],
    ['a plain JSON list (an older format)', () => '[]'],
    ['empty', () => ''],
  ])('refuses an entry %s', (_case, damage) => {
    expect(bodyOfTaskListCacheEntry(damage(toTaskListCacheEntry(body)))).toBeUndefined();
  });
});
