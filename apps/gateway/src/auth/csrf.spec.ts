import { csrfTokenMatches, newCsrfToken, requiresCsrf } from './csrf';

describe('CSRF rules', () => {
  it.each([
    ['POST', '/api/tasks', true],
    ['PATCH', '/api/tasks/abc', true],
    ['DELETE', '/api/tasks/abc', true],
    ['POST', '/api/auth/logout', true],
    ['put', '/api/anything', true],
    ['POST', '/api/auth/login', false],
    ['POST', '/api/auth/login/', false],
    ['POST', '/api/auth/REGISTER', false],
    ['GET', '/api/tasks', false],
    ['HEAD', '/api/tasks', false],
    ['POST', '/health/ready', false],
  ])('%s %s requires a token: %s', (method, path, expected) => {
    expect(requiresCsrf(method, path)).toBe(expected);
  });

  it('compares tokens exactly and only as strings', () => {
    const token = newCsrfToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfTokenMatches(token, token)).toBe(true);
    expect(csrfTokenMatches(token, `${token}x`)).toBe(false);
    const altered = `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`;
    expect(csrfTokenMatches(token, altered)).toBe(false);
    expect(csrfTokenMatches(token, [token])).toBe(false);
    expect(csrfTokenMatches(undefined, undefined)).toBe(false);
    expect(csrfTokenMatches(undefined, '')).toBe(false);
  });
});
