import { IsString, MinLength } from 'class-validator';
import { CommonEnvironment } from './common-environment.ts';
import { environmentProblems, validateEnvironment } from './validate-environment.ts';
import { IsMongoUri, IsUrlWithScheme } from './validators.ts';

class ExampleEnvironment extends CommonEnvironment {
  override PORT = 4000;

  @IsMongoUri()
  MONGODB_URI = 'mongodb://127.0.0.1:27017/taskit';

  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsString()
  @MinLength(3)
  NAME = 'taskit';
}

const problemsOf = (raw: Record<string, string>) => environmentProblems(ExampleEnvironment, raw);

describe('validateEnvironment', () => {
  it('applies the defaults when nothing is set', () => {
    const env = validateEnvironment(ExampleEnvironment, {});
    expect(env).toMatchObject({
      PORT: 4000,
      NODE_ENV: 'development',
      SHUTDOWN_TIMEOUT_MS: 10_000,
      MONGODB_URI: 'mongodb://127.0.0.1:27017/taskit',
    });
    expect(env.isProduction).toBe(false);
  });

  it('converts numbers from their environment strings', () => {
    const env = validateEnvironment(ExampleEnvironment, {
      PORT: '3002',
      SHUTDOWN_TIMEOUT_MS: '2500',
    });
    expect(env.PORT).toBe(3002);
    expect(env.SHUTDOWN_TIMEOUT_MS).toBe(2500);
  });

  it('treats an empty value as unset', () => {
    expect(validateEnvironment(ExampleEnvironment, { PORT: '' }).PORT).toBe(4000);
  });

  it('accepts replica-set and SRV connection strings', () => {
    expect(problemsOf({ MONGODB_URI: 'mongodb://a:27017,b:27017/taskit?replicaSet=rs0' })).toEqual(
      [],
    );
    expect(problemsOf({ MONGODB_URI: 'mongodb+srv://user:pw@cluster.example.net/taskit' })).toEqual(
      [],
    );
  });

  it.each([
    ['MONGODB_URI', 'mysql://127.0.0.1/taskit'],
    ['MONGODB_URI', 'mongodb://127.0.0.1:27017'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['RABBITMQ_URL', 'not a url'],
    ['PORT', '70000'],
    ['PORT', 'eighty'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
    ['NODE_ENV', 'staging'],
    ['NAME', 'ab'],
  ])('names %s when it is %p', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('lists every bad variable at once, without echoing values', () => {
    const problems = problemsOf({ PORT: 'x', REDIS_URL: 'secret-password@nowhere' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['PORT', 'REDIS_URL']);
    expect(problems.join('\n')).not.toContain('secret-password');
  });
});
