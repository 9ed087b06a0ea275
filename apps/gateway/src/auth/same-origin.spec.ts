import { isSameOrigin } from './same-origin';

describe('isSameOrigin', () => {
  const host = 'taskit.example:8443';

  it.each([
    [{ secFetchSite: 'same-origin', host }, true],
    [{ secFetchSite: 'none', host }, true],
    [{ secFetchSite: 'same-site', host }, false],
    [{ secFetchSite: 'cross-site', origin: `https://${host}`, host }, false],
    [{ origin: `https://${host}`, host }, true],
    [{ origin: 'https://attacker.example', host }, false],
    [{ origin: 'null', host }, false],
    [{ host }, true],
  ])('%j: %s', (headers, expected) => {
    expect(isSameOrigin(headers)).toBe(expected);
  });
});
