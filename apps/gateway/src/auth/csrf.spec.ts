import { csrfTokenMatches, newCsrfToken, requiresCsrf } from './csrf';

describe('CSRF rules', () => {
  it.each([
    ['POST', false, true],
    ['PATCH', false, true],
    ['DELETE', false, true],
    ['put', false, true],
    ['POST', true, false],
    ['GET', false, false],
    ['HEAD', false, false],
    ['OPTIONS', false, false],
  ])('%s on a route (exempt: %s) requires a token: %s', (method, exempt, expected) => {
    expect(requiresCsrf(method, exempt)).toBe(expected);
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
