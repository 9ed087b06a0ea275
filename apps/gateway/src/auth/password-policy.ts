import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { passwordStrength } from '../common/password-strength';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable" offline-throttled. */
const MIN_SCORE = 3;

/** Whether zxcvbn can guess a password, knowing the account's email. */
export function isGuessablePassword(password: string, email?: string): boolean {
  const inputs = email === undefined ? [] : [email, ...email.split(/[@.+_-]/)];
  return passwordStrength(password, inputs).score < MIN_SCORE;
}

/**
 * Refuses a password that zxcvbn finds among common and breached passwords, names, keyboard
 * walks, repeats and sequences, or built from the account's email (docs/security.md,
 * Passwords). Only lengths within the policy are estimated (Length reports the rest).
 */
export function IsUncommonPassword(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isUncommonPassword',
      target: object.constructor,
      propertyName,
      options: {
        message: `${propertyName} is too common or easy to guess; use a longer passphrase`,
        ...options,
      },
      validator: {
        validate(value: unknown, args: ValidationArguments): boolean {
          if (typeof value !== 'string') return true;
          if (value.length < PASSWORD_MIN_LENGTH || value.length > PASSWORD_MAX_LENGTH) return true;
          const email = (args.object as { email?: unknown }).email;
          return !isGuessablePassword(value, typeof email === 'string' ? email : undefined);
        },
      },
    });
}
