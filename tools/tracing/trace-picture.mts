/**
 * The README's picture of a trace (docs/tracing.md): makes one task change through the
 * gateway's API, takes its trace from Jaeger's query API and draws it as a waterfall (HTML
 * and SVG, screenshot by Debian's Chromium through playwright-core). Jaeger built from its Go
 * module serves a placeholder UI, hence this drawing.
 *
 *   npx node tools/tracing/trace-picture.mts [--gateway URL] [--jaeger URL] [--out docs/trace.png]
 *
 * Defaults: the `npm run up` stack (gateway :3000, Jaeger :16686).
 */
import { chromium } from 'playwright-core';

interface Span {
  spanID: string;
  operationName: string;
  processID: string;
  startTime: number;
  duration: number;
  references: { refType: string; spanID: string }[];
}
interface Trace {
  traceID: string;
  spans: Span[];
  processes: Record<string, { serviceName: string }>;
}

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const gateway = arg('gateway', 'http://127.0.0.1:3000');
const jaeger = arg('jaeger', 'http://127.0.0.1:16686');
const out = arg('out', 'docs/trace.png');
const chromiumPath = process.env.TASKIT_CHROMIUM ?? '/usr/bin/chromium';

/** A browser-like session on the API: cookie and CSRF token carried over. */
function session() {
  let cookie = '';
  let csrf = '';
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${gateway}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(cookie ? { cookie } : {}),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = response.headers.getSetCookie().map((line) => line.split(';')[0]);
    if (set.length > 0) cookie = set.join('; ');
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (typeof json.csrfToken === 'string') csrf = json.csrfToken;
    if (response.status >= 400) throw new Error(`${method} ${path}: ${response.status}`);
    return json;
  };
}

async function latestTrace(since: number): Promise<Trace> {
  const query = new URLSearchParams({
    service: 'taskit-gateway',
    operation: 'PATCH /api/tasks/:id',
    start: String(since * 1000),
    limit: '1',
  });
  for (let attempt = 0; attempt < 40; attempt++) {
    const response = await fetch(`${jaeger}/api/traces?${query.toString()}`);
    const body = (await response.json()) as { data: Trace[] };
    const trace = body.data[0];
    if (trace?.spans.some((s) => s.operationName === 'influxdb write')) return trace;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('no complete trace of the change in Jaeger after 20 s');
}

const COLORS: Record<string, string> = {
  'taskit-gateway': '#3b82f6',
  'taskit-analytics': '#f59e0b',
};
const escape = (text: string) =>
  text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

function waterfall(trace: Trace): string {
  const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
  const parent = (s: Span) => s.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
  const children = (id?: string) =>
    trace.spans
      .filter((s) => parent(s) === id || (id === undefined && !byId.has(parent(s) ?? '')))
      .sort((a, b) => a.startTime - b.startTime);
  const rows: { span: Span; depth: number }[] = [];
  const walk = (id: string | undefined, depth: number) => {
    for (const span of children(id)) {
      rows.push({ span, depth });
      walk(span.spanID, depth + 1);
    }
  };
  walk(undefined, 0);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const labelWidth = 380;
  const barWidth = 620;
  const rowHeight = 24;
  const x = (t: number) => labelWidth + ((t - start) / (end - start)) * barWidth;
  const lines = rows.map(({ span, depth }, i) => {
    const service = trace.processes[span.processID]?.serviceName ?? '?';
    const y = 40 + i * rowHeight;
    const left = x(span.startTime);
    const width = Math.max(2, x(span.startTime + span.duration) - left);
    const ms = (span.duration / 1000).toFixed(span.duration < 10_000 ? 2 : 1);
    return `<text x="${8 + depth * 14}" y="${y + 16}" class="label">${escape(span.operationName)}</text>
      <rect x="${left}" y="${y + 4}" width="${width}" height="16" rx="3" fill="${COLORS[service] ?? '#999'}"/>
      <text x="${left + width + 4}" y="${y + 16}" class="ms">${ms} ms</text>`;
  });
  const height = 60 + rows.length * rowHeight;
  const total = ((end - start) / 1000).toFixed(1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + barWidth + 80}" height="${height}">
    <style>.label{font:12px sans-serif;fill:#111}.ms{font:11px sans-serif;fill:#555}.title{font:bold 13px sans-serif}</style>
    <rect width="100%" height="100%" fill="#fff"/>
    <text x="8" y="22" class="title">trace ${trace.traceID} · ${trace.spans.length} spans · ${total} ms · blue taskit-gateway, amber taskit-analytics</text>
    ${lines.join('\n')}
  </svg>`;
}

const api = session();
const since = Date.now();
await api('POST', '/api/auth/register', {
  email: `trace-${since}@example.com`,
  password: 'correct horse battery',
});
const task = await api('POST', '/api/tasks', { title: 'follow me in Jaeger' });
await api('PATCH', `/api/tasks/${String(task.id)}`, { done: true });
const trace = await latestTrace(since);
const svg = waterfall(trace);
const browser = await chromium.launch({ executablePath: chromiumPath });
try {
  const page = await browser.newPage({ deviceScaleFactor: 2 });
  await page.setContent(`<body style="margin:0">${svg}</body>`);
  await page.locator('svg').screenshot({ path: out });
} finally {
  await browser.close();
}
process.stdout.write(`${out}: trace ${trace.traceID}, ${trace.spans.length} spans\n`);
