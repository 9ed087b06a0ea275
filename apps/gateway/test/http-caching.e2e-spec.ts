import { get } from 'node:http';
import { registeredClient } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';

/** A plain GET (fetch adds `Cache-Control: no-cache` to conditional requests, which bypasses 304). */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

/** Pages revalidate with their ETag (304); API answers are no-store and carry none. */
describe('gateway: HTTP caching headers', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwcache');
    gateway = await startService('gateway', stack);
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  it('answers a page again with 304 when its ETag still matches', async () => {
    const first = await fetch(`${gateway.url}/login`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(await statusOf(`${gateway.url}/login`, { 'if-none-match': etag! })).toBe(304);
    expect(await statusOf(`${gateway.url}/login`, { 'if-none-match': '"other"' })).toBe(200);
  });

  it('sends API answers without an ETag', async () => {
    const api = await registeredClient(gateway.url, 'cache');
    const list = await api.get('/api/tasks');
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(list.headers.get('etag')).toBeNull();
  });
});
