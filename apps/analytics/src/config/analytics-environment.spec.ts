import { environmentProblems, validateEnvironment } from '@taskit/config';
import { AnalyticsEnvironment } from './analytics-environment';

const problemsOf = (raw: Record<string, string>) =>
  environmentProblems(AnalyticsEnvironment, raw).map((p) => p.split(':')[0]);

describe('AnalyticsEnvironment', () => {
  it('starts with nothing set, on the contract port with the worker defaults', () => {
    expect(validateEnvironment(AnalyticsEnvironment, {})).toMatchObject({
      PORT: 3001,
      INFLUX_URL: 'http://127.0.0.1:8086',
      INFLUX_BUCKET: 'taskit',
      INGEST_BATCH_SIZE: 500,
      INGEST_PREFETCH: 1_000,
      INGEST_BATCH_WAIT_MS: 50,
    });
  });

  it('reads the worker settings as numbers', () => {
    const env = validateEnvironment(AnalyticsEnvironment, {
      INGEST_BATCH_SIZE: '1000',
      INGEST_BATCH_WAIT_MS: '0',
    });
    expect([env.INGEST_BATCH_SIZE, env.INGEST_BATCH_WAIT_MS]).toEqual([1000, 0]);
  });

  it.each([
    ['INFLUX_URL', 'influx://127.0.0.1:8086'],
    ['INGEST_BATCH_SIZE', '0'],
    ['INGEST_PREFETCH', '50000'],
    ['INGEST_MAX_BACKOFF_MS', '10'],
    ['RABBITMQ_URL', 'localhost'],
  ])('refuses %s=%p', (name, value) => {
    expect(problemsOf({ [name]: value })).toEqual([name]);
  });
});
