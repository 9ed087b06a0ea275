import { randomBytes } from 'node:crypto';
import { sessionSecretsOf, weakSessionSecretReason } from './session-secrets';

describe('SESSION_SECRET in production', () => {
  it.each([
    ['the .env.example placeholder', 'change-me-session-secret-at-least-32-chars'],
    ["the dev overlay's value", 'dev-session-secret-not-for-production-use'],
    ['the built-in development value', 'taskit-development-session-secret-not-for-production'],
    ['one repeated character', 's'.repeat(48)],
    ['a run of digits', '0123456789012345678901234567890123456789'],
    ['a keyboard walk', 'qwertyuiopasdfghjklzxcvbnm1234567890'],
    ['a short value', 'Xq7#vL2!pR9'],
  ])('refuses %s', (_case, secret) => {
    expect(weakSessionSecretReason(secret)).toEqual(expect.any(String));
  });

  it.each([
    ['openssl rand -base64 32', randomBytes(32).toString('base64')],
    ['openssl rand -hex 32', randomBytes(32).toString('hex')],
    ['32 random bytes in base64url', randomBytes(32).toString('base64url')],
  ])('accepts %s', (_case, secret) => {
    expect(weakSessionSecretReason(secret)).toBeUndefined();
  });

  it('reads a comma-separated list, newest first, without blanks', () => {
    expect(sessionSecretsOf(' new ,old,, older ')).toEqual(['new', 'old', 'older']);
  });
});
