import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommonEnvironment } from './common-environment.ts';
import { ReadableFromFile, fileSettingsOf } from './secret-files.ts';
import { environmentProblems, validateEnvironment } from './validate-environment.ts';
import { IsUrlWithScheme } from './validators.ts';

class ExampleEnvironment extends CommonEnvironment {
  override PORT = 4000;

  @ReadableFromFile()
  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsUrlWithScheme(['http', 'https'])
  PLAIN_URL = 'http://127.0.0.1';
}

const folder = mkdtempSync(path.join(tmpdir(), 'taskit-secret-files-'));
function secretFile(name: string, content: string): string {
  const file = path.join(folder, name);
  writeFileSync(file, content);
  return file;
}

describe('settings read from <NAME>_FILE', () => {
  it('knows the marked settings of the class and of its parents', () => {
    expect(fileSettingsOf(ExampleEnvironment).sort()).toEqual(['RABBITMQ_URL', 'REDIS_URL']);
    expect(fileSettingsOf(CommonEnvironment)).toEqual(['RABBITMQ_URL']);
  });

  it('takes the value from the file, without the trailing newline an editor leaves', () => {
    const env = validateEnvironment(ExampleEnvironment, {
      REDIS_URL_FILE: secretFile('redis-url', 'rediss://:pw@10.0.0.3:6378\n'),
      RABBITMQ_URL_FILE: secretFile('rabbitmq-url', 'amqps://taskit:pw@broker:5671'),
    });
    expect(env.REDIS_URL).toBe('rediss://:pw@10.0.0.3:6378');
    expect(env.RABBITMQ_URL).toBe('amqps://taskit:pw@broker:5671');
    expect(env).not.toHaveProperty('REDIS_URL_FILE');
  });

  it("validates the file's content like the variable's", () => {
    expect(
      environmentProblems(ExampleEnvironment, {
        REDIS_URL_FILE: secretFile('not-redis', 'http://example.com'),
      }),
    ).toEqual([expect.stringMatching(/^REDIS_URL: /)]);
  });

  it('refuses both the variable and its file, a missing file and an empty one', () => {
    expect(
      environmentProblems(ExampleEnvironment, {
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_URL_FILE: secretFile('both', 'redis://10.0.0.1:6379'),
        RABBITMQ_URL_FILE: path.join(folder, 'absent'),
      }),
    ).toEqual([
      `RABBITMQ_URL_FILE: cannot read ${path.join(folder, 'absent')} (ENOENT)`,
      'REDIS_URL_FILE: set REDIS_URL or REDIS_URL_FILE, not both',
    ]);
    expect(
      environmentProblems(ExampleEnvironment, { REDIS_URL_FILE: secretFile('empty', '\n') }),
    ).toEqual([`REDIS_URL_FILE: ${path.join(folder, 'empty')} is empty`]);
  });

  it('ignores <NAME>_FILE for a setting not marked readable from a file', () => {
    const env = validateEnvironment(ExampleEnvironment, {
      PLAIN_URL_FILE: secretFile('plain', 'https://example.com'),
    });
    expect(env.PLAIN_URL).toBe('http://127.0.0.1');
  });
});
