/**
 * The task list of an account at the task cap (docs/api.md, Benchmark results, `neighbour.capped_list_*`):
 * one user holding TASKS_PER_USER_MAX (5,000) tasks on a production gateway. A create beyond
 * the cap must be refused (409); then the user's first page (500 tasks, the default limit) is
 * read in a loop from several connections (`capped_list_p99_ms`, cached as every repeated
 * read is), its size measured (`capped_list_page_bytes`), every page walked once, and pages
 * read right after a write (every read a miss: MongoDB page query and counts). Last, the bulk
 * changes over the whole list (docs/adr/bulk-writes.md): toggle-all three times and
 * clear-completed, each after the relay has published the previous one's events, with the
 * readiness probe polled meanwhile.
 */
import { createClient } from 'redis';
import { measureLoad, summarize } from '../lib/measure.mts';
import { metricValues } from '../lib/metrics.mts';
import { createBenchStack, startGateway } from '../lib/services.mts';
import { CONFIG, progress, QUICK } from '../lib/settings.mts';
import { nowMs, percentile, round, sleep } from '../lib/stats.mts';
import { registerUsers, seedTasks } from '../lib/users.mts';

const TASKS_PER_USER_MAX = 5_000;
const PAGE = 500;

interface Page {
  tasks: unknown[];
  nextCursor: string | null;
  counts: { active: number; completed: number };
}

/** A state-changing API call of `user`, with its session and CSRF token. */
function post(url: string, user: { cookie: string; csrf: string }, body: object) {
  return fetch(url, {
    method: 'POST',
    headers: { cookie: user.cookie, 'x-csrf-token': user.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Until the relay has had every recorded event confirmed (at most a minute); seconds taken. */
async function relayDrained(url: string): Promise<number> {
  const started = nowMs();
  while (nowMs() - started < 60_000) {
    const [recorded, published] = await metricValues(
      `${url}/metrics`,
      'taskit_outbox_events_recorded_total',
      'taskit_outbox_events_published_total',
    );
    if (published >= recorded) break;
    await sleep(250);
  }
  return round((nowMs() - started) / 1000);
}

/**
 * Seconds each bulk change took to answer 200 (a 503 at its deadline is repeated, as a client
 * would, and counted in the time), the relay's drain after each, and the readiness probes.
 */
async function bulkChanges(url: string, user: { cookie: string; csrf: string }) {
  let probes = 0;
  let unready = 0;
  let stop = false;
  const probing = (async () => {
    while (!stop) {
      const response = await fetch(`${url}/health/ready`).catch(() => undefined);
      probes += 1;
      if (response?.status !== 200) unready += 1;
      await response?.text();
      await sleep(250);
    }
  })();
  const answerS: number[] = [];
  const drainS: number[] = [];
  const changes: [string, object][] = [
    ['toggle-all', { done: true }],
    ['toggle-all', { done: false }],
    ['toggle-all', { done: true }],
    ['clear-completed', {}],
  ];
  try {
    for (const [operation, body] of changes) {
      await sleep(1_100); // the bulk budget allows one a second
      const started = nowMs();
      for (;;) {
        const response = await post(`${url}/api/tasks/${operation}`, user, body);
        const text = await response.text();
        if (response.status === 200) break;
        if (response.status !== 503) throw new Error(`${operation}: ${response.status} ${text}`);
        await sleep(1_100);
      }
      answerS.push(round((nowMs() - started) / 1000));
      drainS.push(await relayDrained(url));
    }
  } finally {
    stop = true;
    await probing;
  }
  return {
    operations: changes.map(([operation, body]) => `${operation} ${JSON.stringify(body)}`),
    answer_s: answerS,
    relay_drain_s: drainS,
    readiness_probes: probes,
    readiness_failures: unready,
  };
}

async function timedGet(url: string, cookie: string): Promise<{ ms: number; text: string }> {
  const started = nowMs();
  const response = await fetch(url, { headers: { cookie } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text}`);
  return { ms: nowMs() - started, text };
}

export async function cappedListPart() {
  const connections = QUICK ? 2 : 4;
  const durationS = CONFIG.http.durationS;
  const stack = await createBenchStack('capped');
  const gateway = await startGateway(stack);
  const [user] = await registerUsers(gateway.url, 1, 'capped');
  progress(`capped list: seeding ${TASKS_PER_USER_MAX} tasks for one user`);
  await seedTasks(stack.mongodbUri, [user], TASKS_PER_USER_MAX);
  const beyond = await post(`${gateway.url}/api/tasks`, user, { title: 'one beyond the cap' });
  if (beyond.status !== 409) throw new Error(`a create beyond the cap answered ${beyond.status}`);

  // Every page once, cold: the walk a page like the web UI's makes.
  const pageMs: number[] = [];
  const pageBytes: number[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    const { ms, text } = await timedGet(`${gateway.url}/api/tasks${query}`, user.cookie);
    const page = JSON.parse(text) as Page;
    if (page.counts.active + page.counts.completed !== TASKS_PER_USER_MAX) {
      throw new Error('the counts do not add up to the cap');
    }
    pageMs.push(ms);
    pageBytes.push(Buffer.byteLength(text));
    cursor = page.nextCursor;
  } while (cursor !== null);
  if (pageBytes.length !== TASKS_PER_USER_MAX / PAGE) {
    throw new Error(`expected ${TASKS_PER_USER_MAX / PAGE} pages, read ${pageBytes.length}`);
  }

  progress(`capped list: first page, ${connections} connections, ${durationS} s`);
  const job = {
    mode: 'read' as const,
    url: gateway.url,
    path: '/api/tasks',
    users: [{ cookie: user.cookie, csrf: user.csrf }],
    connections,
    durationS,
    expectTasks: PAGE,
  };
  const cached = summarize([await measureLoad('capped-list', job, gateway.child.pid)]);

  // Misses: the user's list version bumped (as a write does) before each timed read.
  const redis = createClient({ url: stack.redisUrl });
  await redis.connect();
  const missMs: number[] = [];
  try {
    for (let i = 0; i < (QUICK ? 5 : 20); i++) {
      await redis.incr(`${stack.redisPrefix}tasks-version:${user.id}`);
      missMs.push((await timedGet(`${gateway.url}/api/tasks`, user.cookie)).ms);
    }
  } finally {
    await redis.close();
  }
  progress('capped list: toggle-all three times and clear-completed over the whole list');
  const bulk = await bulkChanges(gateway.url, user);
  progress(
    `  bulk changes (s): ${bulk.answer_s.join(', ')}; relay drained in ${bulk.relay_drain_s.join(', ')}`,
  );
  await gateway.stop('SIGTERM', 15_000);
  await stack.cleanup();

  return {
    capped_list_p99_ms: cached.p99_ms,
    capped_list_page_bytes: pageBytes[0],
    capped_list: {
      tasks: TASKS_PER_USER_MAX,
      page_tasks: PAGE,
      pages: pageBytes.length,
      create_beyond_cap_status: beyond.status,
      cached_rps: cached.rps,
      cached_p50_ms: cached.p50_ms,
      cached_p99_ms: cached.p99_ms,
      cached_errors: cached.errors,
      cpu_ms_per_request: cached.cpu_ms_per_request,
      connections,
      duration_s: durationS,
      page_bytes_max: Math.max(...pageBytes),
      walk_page_ms: pageMs.map((ms) => round(ms)),
      miss_p50_ms: round(percentile(missMs, 50)),
      miss_p99_ms: round(percentile(missMs, 99)),
      misses: missMs.length,
      titles: 'seeded like the http part (about 30 characters)',
      bulk_changes: bulk,
    },
  };
}
