#!/usr/bin/env node
// Smoke test of a running Taskit (docker compose, or a cluster behind a port-forward):
// ready, sign up, create a task, read it back, and see its task.created reach InfluxDB
// through the analytics summary. Usage: node tools/deploy-check/smoke.mjs http://127.0.0.1:3000
// Used by .github/workflows/containers.yml; exits non-zero at the first failed step.
import { randomBytes } from 'node:crypto';

const base = (process.argv[2] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const deadline = (seconds) => Date.now() + seconds * 1000;
let cookie = '';
let csrf = '';

async function call(method, path, body) {
  const headers = { accept: 'application/json', origin: base };
  if (cookie) headers.cookie = cookie;
  if (csrf) headers['x-csrf-token'] = csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const set = response.headers.getSetCookie().map((c) => c.split(';')[0]);
  if (set.length > 0) cookie = set.join('; ');
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

function expect(step, response, status) {
  if (response.status !== status)
    throw new Error(
      `${step}: HTTP ${response.status}, expected ${status}: ${JSON.stringify(response.json)}`,
    );
  console.log(`ok   ${step}`);
  return response.json;
}

async function poll(step, seconds, attempt) {
  const until = deadline(seconds);
  for (;;) {
    const outcome = await attempt().catch((error) => ({ error }));
    if (outcome?.done) return console.log(`ok   ${step}`);
    if (Date.now() > until)
      throw new Error(`${step}: not within ${seconds} s (${outcome?.error ?? outcome?.last})`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

await poll('gateway ready', 180, async () => {
  const response = await fetch(`${base}/health/ready`);
  return { done: response.ok, last: `HTTP ${response.status}` };
});
const email = `smoke-${randomBytes(6).toString('hex')}@example.com`;
const password = randomBytes(18).toString('base64url');
csrf = expect(
  'register',
  await call('POST', '/api/auth/register', { email, password }),
  201,
).csrfToken;
const task = expect(
  'create a task',
  await call('POST', '/api/tasks', { title: 'smoke test' }),
  201,
);
const list = expect('list the tasks', await call('GET', '/api/tasks'), 200);
if (!JSON.stringify(list).includes(task.id))
  throw new Error('list the tasks: the new task is missing');
await poll('task.created counted by analytics (worker to InfluxDB)', 120, async () => {
  const summary = await call('GET', '/api/analytics/summary?range=1h');
  return { done: summary.json?.totals?.created >= 1, last: JSON.stringify(summary.json) };
});
console.log('smoke test passed');
