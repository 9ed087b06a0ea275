import { passwordStrength } from '../common/password-strength';

/** The shortest session secret accepted (256 bits of base64 are 43 characters). */
export const SESSION_SECRET_MIN_LENGTH = 32;

/**
 * Values published in this repository or typical of a placeholder: a secret that anyone
 * reading the sources could try (docs/security.md, Secrets).
 */
const PUBLISHED_OR_PLACEHOLDER =
  /change.?me|not.?for.?prod|example|placeholder|replace|dev(elopment)?.?session.?secret/i;

/** `SESSION_SECRET`: one secret, or several separated by commas, the newest (signing) first. */
export function sessionSecretsOf(value: string): string[] {
  return value
    .split(',')
    .map((secret) => secret.trim())
    .filter((secret) => secret.length > 0);
}

/**
 * Why a secret must not sign production sessions, or undefined when it may: too short, a
 * published or placeholder value, or guessable (repeats, sequences, keyboard walks and words,
 * as zxcvbn estimates them: fewer than 10^20 guesses, where a random 32-character value needs
 * about 10^32).
 */
export function weakSessionSecretReason(secret: string): string | undefined {
  if (secret.length < SESSION_SECRET_MIN_LENGTH) {
    return `each secret must be at least ${SESSION_SECRET_MIN_LENGTH} characters`;
  }
  if (PUBLISHED_OR_PLACEHOLDER.test(secret)) return 'a published or placeholder value';
  if (new Set(secret).size < 12 || passwordStrength(secret).guessesLog10 < 20) {
    return 'too easy to guess: use random bytes (openssl rand -base64 32)';
  }
  return undefined;
}
