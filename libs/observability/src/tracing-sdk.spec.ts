import { redactedRedisStatement } from './tracing-sdk.ts';

describe('Redis statements in spans', () => {
  const sid = 'Vx3kQ9_bL2-mZ7pR4tY8nC1dF6gH0jK5';

  it.each<[string, (string | Buffer)[], string]>([
    ['GET', [`taskit:sess:${sid}`], 'GET taskit:sess:?'],
    [
      'SET',
      [`taskit:sess:${sid}`, `{"user":{"email":"ada@example.com"}}`, 'PX', '1'],
      'SET taskit:sess:? ? ? ?',
    ],
    ['DEL', [`taskit:flash:${sid}`, `taskit:sess:${sid}`], 'DEL taskit:flash:? ?'],
    ['GET', [sid], 'GET ?'],
    ['EVALSHA', ['abc', '1', `taskit:login-failures:pair:${sid}`], 'EVALSHA ? ? ?'],
    ['PING', [], 'PING'],
    ['GET', [Buffer.from(`taskit:sess:${sid}`)], 'GET ?'],
  ])('%s %j shows %j', (command, args, shown) => {
    expect(redactedRedisStatement(command, args)).toBe(shown);
    expect(redactedRedisStatement(command, args)).not.toContain(sid);
  });
});
