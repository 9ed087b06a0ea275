import { registerDecorator, type ValidationOptions } from 'class-validator';
import ConnectionString from 'mongodb-connection-string-url';

function urlWithScheme(value: unknown, schemes: readonly string[]): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return schemes.includes(url.protocol.replace(/:$/, '')) && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A URL whose scheme is one of `schemes` (for example redis, rediss). */
export function IsUrlWithScheme(schemes: readonly string[], options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isUrlWithScheme',
      target: target.constructor,
      propertyName,
      options: {
        message: `must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL`,
        ...options,
      },
      validator: { validate: (value: unknown) => urlWithScheme(value, schemes) },
    });
}

/** A MongoDB connection string as the driver parses it (several hosts allowed). */
export function IsMongoUri(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMongoUri',
      target: target.constructor,
      propertyName,
      options: {
        message: 'must be a mongodb:// or mongodb+srv:// connection string naming a database',
        ...options,
      },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string') return false;
          try {
            return new ConnectionString(value).pathname.replace(/^\//, '') !== '';
          } catch {
            return false;
          }
        },
      },
    });
}
