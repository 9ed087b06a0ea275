import { HOPS, type Check } from './check';

const TITLES: Record<Check['hop'], string> = {
  settings: '1. Settings',
  health: '2. Service health',
  outbox: '3. Outbox (gateway)',
  rabbitmq: '4. RabbitMQ',
  influxdb: '5. InfluxDB',
  probe: '6. Probe event',
};

/** The human report: per hop ✓/✗, the figure, and on ✗ the cause and the next command. */
export function renderText(checks: Check[], color: boolean): string {
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines: string[] = [];
  for (const hop of HOPS) {
    const ofHop = checks.filter((c) => c.hop === hop);
    if (ofHop.length === 0) continue;
    lines.push(paint('1', TITLES[hop]));
    for (const check of ofHop) {
      const mark = check.ok ? paint('32', '✓') : paint('31', '✗');
      lines.push(`  ${mark} ${check.name}: ${check.detail}`);
      if (!check.ok && check.hint) lines.push(`      → ${check.hint}`);
    }
  }
  const broken = checks.filter((c) => !c.ok);
  lines.push(
    broken.length === 0
      ? paint('32', `All ${checks.length} checks passed.`)
      : paint(
          '31',
          `${broken.length} of ${checks.length} checks failed: ${broken.map((c) => c.name).join(', ')}.`,
        ),
  );
  return `${lines.join('\n')}\n`;
}

export function renderJson(checks: Check[]): string {
  return `${JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2)}\n`;
}
