import { readFileSync } from 'node:fs';

const FILE_SETTINGS = Symbol('taskit:file-settings');

type WithFileSettings = { [FILE_SETTINGS]?: Set<string> };

/**
 * The setting may be given as `<NAME>_FILE`, the path of a file holding its value: how
 * Kubernetes and the Secrets Store CSI driver hand credentials to a pod without putting them
 * in the environment (docs/configuration.md, Credentials as files).
 */
export function ReadableFromFile(): PropertyDecorator {
  return (prototype, property) => {
    const owner = prototype as WithFileSettings;
    // A copy per class, so that a subclass adds to its own set and not to its parent's.
    owner[FILE_SETTINGS] = new Set([...(owner[FILE_SETTINGS] ?? []), String(property)]);
  };
}

/** The settings of `schema` that `<NAME>_FILE` may give. */
export function fileSettingsOf(schema: { prototype: object }): string[] {
  return [...((schema.prototype as WithFileSettings)[FILE_SETTINGS] ?? [])];
}

/**
 * `raw` with every `<NAME>_FILE` of a file setting replaced by `NAME` and the file's content
 * (one trailing newline removed, as `echo` and most editors leave one). Returns the problems
 * instead of throwing, one line per variable, so that they join the validator's.
 */
export function resolveSecretFiles(
  names: readonly string[],
  raw: Record<string, string | undefined>,
): { values: Record<string, string | undefined>; problems: string[] } {
  const values = { ...raw };
  const problems: string[] = [];
  for (const name of names) {
    const path = raw[`${name}_FILE`];
    if (path === undefined || path === '') continue;
    delete values[`${name}_FILE`];
    if (raw[name] !== undefined && raw[name] !== '') {
      problems.push(`${name}_FILE: set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      const content = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      if (content === '') problems.push(`${name}_FILE: ${path} is empty`);
      else values[name] = content;
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
    }
  }
  return { values, problems };
}
