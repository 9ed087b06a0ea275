import { fail, pass } from './check';
import { labelOf, parseMetrics } from './metrics-text';
import { renderJson, renderText } from './report';

describe('the doctor report', () => {
  const checks = [
    pass('rabbitmq', 'queue a', '1 consumer, 0 ready'),
    fail('rabbitmq', 'queue b', '0 consumers, 3 ready', 'Telegraf is down.'),
  ];

  it('prints ✓/✗, the figure, and the hint only for ✗', () => {
    const text = renderText(checks, false);
    expect(text).toContain('4. RabbitMQ\n  ✓ queue a: 1 consumer, 0 ready\n  ✗ queue b:');
    expect(text).toContain('      → Telegraf is down.');
    expect(text).toContain('1 of 2 checks failed: queue b.');
  });

  it('prints the JSON report of docs/operations.md', () => {
    const report = JSON.parse(renderJson(checks)) as { ok: boolean; checks: object[] };
    expect(report.ok).toBe(false);
    expect(Object.keys(report.checks[0])).toEqual(['hop', 'name', 'ok', 'detail', 'hint']);
  });

  it('reads Prometheus samples', () => {
    const samples = parseMetrics('# HELP x\nx_total{reason="nacked"} 2\ny 3.5\n');
    expect(samples.map((s) => [s.name, labelOf(s.labels, 'reason'), s.value])).toEqual([
      ['x_total', 'nacked', 2],
      ['y', '', 3.5],
    ]);
  });
});
