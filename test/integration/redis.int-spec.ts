import { createClient } from 'redis';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

describe('Redis', () => {
  let stack: IsolatedStack;

  beforeAll(async () => {
    stack = await createIsolatedStack('redis');
  });

  afterAll(() => stack.cleanup());

  it('stores a key with an expiry under the stack prefix, and cleanup removes it', async () => {
    const client = createClient({ url: stack.redisUrl });
    await client.connect();
    try {
      const key = `${stack.redisPrefix}greeting`;
      await client.set(key, 'hello', { expiration: { type: 'EX', value: 60 } });
      expect(await client.get(key)).toBe('hello');
      expect(await client.ttl(key)).toBeGreaterThan(0);

      await stack.cleanup();
      expect(await client.exists(key)).toBe(0);
    } finally {
      await client.close();
    }
    stack = await createIsolatedStack('redis'); // afterAll cleans this fresh one
  });
});
