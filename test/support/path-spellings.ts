/**
 * Other spellings of an API path (docs/security.md: routing is case-sensitive and strict, so
 * each is 404 and no rule tied to a route can be escaped by one). Segments starting with ":"
 * are placeholders the suites substitute afterwards, and keep their spelling.
 */
const segments = (path: string, respell: (segment: string) => string) =>
  path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? segment : respell(segment)))
    .join('/');

export const PATH_SPELLINGS: readonly (readonly [string, (path: string) => string])[] = [
  ['upper case', (path) => segments(path, (s) => s.toUpperCase())],
  ['capitalised', (path) => segments(path, (s) => s.charAt(0).toUpperCase() + s.slice(1))],
  ['only /API upper case', (path) => path.replace(/^\/api\//, '/API/')],
  ['a leading double slash', (path) => `/${path}`],
  ['a double slash inside', (path) => path.replace(/^\/api\//, '/api//')],
  ['a trailing slash', (path) => `${path}/`],
];
