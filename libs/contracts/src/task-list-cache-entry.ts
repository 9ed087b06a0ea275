import { crc32 } from 'node:zlib';

/**
 * A cached task-list page as the gateway stores it in Redis: `<crc32 of the body, 8 hex
 * digits>:<body>`, the body being the response exactly as it is sent. Serving it costs one
 * CRC-32 instead of a JSON parse and stringify; an entry that is cut, changed or not one of
 * these fails the check and counts as a miss (docs/sessions-and-cache.md, The task-list
 * cache). Shared with the benchmark's raw handler, which does the same work.
 */
export function toTaskListCacheEntry(body: string): string {
  return `${checksum(body)}:${body}`;
}

/** The body of an entry made by toTaskListCacheEntry, or undefined when the entry fails the check. */
export function bodyOfTaskListCacheEntry(entry: string): string | undefined {
  if (entry.length < 9 || entry.charCodeAt(8) !== 0x3a) return undefined;
  const body = entry.slice(9);
  return entry.startsWith(checksum(body)) ? body : undefined;
}

function checksum(body: string): string {
  return crc32(body).toString(16).padStart(8, '0');
}
