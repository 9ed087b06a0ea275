/**
 * Keys that must never reach a DTO or a MongoDB query: prototype-pollution keys and MongoDB
 * operators or dotted paths (`{"$gt": ""}`, `{"a.b": 1}`).
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

export function isForbiddenKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key) || key.startsWith('$') || key.includes('.');
}

/**
 * The first forbidden key anywhere in `value` (own keys of nested objects and arrays), as a
 * path such as `title.$gt`; undefined when there is none. Very deep nesting counts as hostile.
 */
export function findForbiddenKey(value: unknown, path = '', depth = 0): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return path || '(root)';
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (isForbiddenKey(key)) return here;
    const found = findForbiddenKey((value as Record<string, unknown>)[key], here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}
