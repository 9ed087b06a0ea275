import {
  createIsolatedStack as createStack,
  type IsolatedStack,
} from '../../libs/testing/src/isolated-stack';
import { testServices } from './test-environment';

export type { IsolatedStack } from '../../libs/testing/src/isolated-stack';
export { influxQuery } from '../../libs/testing/src/influx';

/** One test file's isolated slice of the servers `npm test` started (libs/testing). */
export function createIsolatedStack(label: string): Promise<IsolatedStack> {
  return createStack(label, testServices(), 'test');
}
