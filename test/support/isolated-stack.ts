import { createIsolatedStack as createStack, type IsolatedStack } from '../harness/isolated-stack';
import { testServices } from './test-environment';

export type { IsolatedStack } from '../harness/isolated-stack';
export { influxQuery } from '../harness/influx';

/** One test file's isolated slice of the servers `npm test` started (test/harness). */
export function createIsolatedStack(label: string): Promise<IsolatedStack> {
  return createStack(label, testServices(), 'test');
}
