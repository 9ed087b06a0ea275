// class-transformer reads the declared property types through reflect-metadata.
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { fileSettingsOf, resolveSecretFiles } from './secret-files.ts';

/** A setting is missing or malformed: the message names every offending variable. */
export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}

function describe(error: ValidationError): string {
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  return `${error.property}: ${reasons}`;
}

/**
 * Builds a typed, validated settings object from environment variables. Defaults are the
 * class's property initialisers; values are converted to the declared types first; a setting
 * marked `@ReadableFromFile()` may come from the file `<NAME>_FILE` names.
 */
export function validateEnvironment<T extends object>(
  schema: ClassConstructor<T>,
  raw: Record<string, string | undefined>,
): T {
  const { values, problems } = resolveSecretFiles(fileSettingsOf(schema), raw);
  const present = Object.fromEntries(
    Object.entries(values).filter(([, value]) => value !== undefined && value !== ''),
  );
  const settings = plainToInstance(schema, present, {
    enableImplicitConversion: true,
    exposeDefaultValues: true,
  });
  const errors = validateSync(settings, { forbidUnknownValues: true });
  if (problems.length > 0 || errors.length > 0) {
    throw new ConfigurationError([...problems, ...errors.map(describe)]);
  }
  return settings;
}

/** What is wrong with `raw` for `schema`, one line per variable (`NAME: reason`); none when valid. */
export function environmentProblems<T extends object>(
  schema: ClassConstructor<T>,
  raw: Record<string, string | undefined>,
): string[] {
  try {
    validateEnvironment(schema, raw);
    return [];
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
}

/**
 * For main.ts: validate before anything starts, and stop with a plain message (no stack)
 * naming the variables when the configuration is wrong.
 */
export function loadEnvironmentOrExit<T extends object>(
  schema: ClassConstructor<T>,
  raw: Record<string, string | undefined> = process.env,
): T {
  try {
    return validateEnvironment(schema, raw);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
