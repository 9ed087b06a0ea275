import {
  BadRequestException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
import { EmptyBodyDto } from './empty-body.dto';
import { findForbiddenKey } from './forbidden-keys';

const BUILT_INS: unknown[] = [String, Boolean, Number, Array, Object];

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {});
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * The global ValidationPipe (whitelist, forbidNonWhitelisted, transform), plus a check that no
 * MongoDB operator or prototype key hides anywhere in a body, query or parameter, and errors
 * as one readable message (docs/api.md, HTTP API: `message` is a string).
 */
export class SafeValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new BadRequestException(flatten(errors).join('; ')),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'custom') return value;
    const hostile = findForbiddenKey(value);
    if (hostile !== undefined) {
      throw new BadRequestException(`${metadata.type} must not contain the key "${hostile}"`);
    }
    // A route that takes a DTO body gets {} rather than undefined when no body was sent, so
    // that a missing body is reported field by field instead of as an unknown value.
    const input = metadata.type === 'body' && value === undefined ? {} : value;
    const isDto = metadata.metatype !== undefined && !BUILT_INS.includes(metadata.metatype);
    if (!isDto) return super.transform(input, metadata);
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new BadRequestException(`${metadata.type} must be a JSON object`);
    }
    if (metadata.metatype === EmptyBodyDto) {
      const keys = Object.keys(input);
      if (keys.length > 0) {
        throw new BadRequestException(`property ${keys[0]} should not exist (no body expected)`);
      }
      return {};
    }
    return super.transform(input, metadata);
  }
}
