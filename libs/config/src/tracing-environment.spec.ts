import { TracingEnvironment } from './tracing-environment.ts';
import { environmentProblems, validateEnvironment } from './validate-environment.ts';

const problemsOf = (raw: Record<string, string>) => environmentProblems(TracingEnvironment, raw);

describe('TracingEnvironment', () => {
  it('is off without an OTLP endpoint', () => {
    expect(validateEnvironment(TracingEnvironment, {}).tracingEnabled).toBe(false);
  });

  it('is on with an endpoint (general or for traces) unless the SDK is disabled', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(validateEnvironment(TracingEnvironment, endpoint).tracingEnabled).toBe(true);
    expect(
      validateEnvironment(TracingEnvironment, {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
      }).tracingEnabled,
    ).toBe(true);
    expect(
      validateEnvironment(TracingEnvironment, { ...endpoint, OTEL_SDK_DISABLED: 'true' })
        .tracingEnabled,
    ).toBe(false);
  });

  it('accepts the standard samplers with a ratio', () => {
    expect(
      problemsOf({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      }),
    ).toEqual([]);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', '127.0.0.1:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http'],
    ['OTEL_SDK_DISABLED', 'yes'],
    ['OTEL_SERVICE_NAME', 'taskit gateway'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_BSP_SCHEDULE_DELAY', '-1'],
  ])('names %s when it is %p', (name, value) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${name}: `));
  });
});
