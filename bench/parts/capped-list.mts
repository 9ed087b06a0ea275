/**
 * The task list of an account at the task cap (docs/api.md, Benchmark results, `neighbour.capped_list_*`):
 * one user holding TASKS_PER_USER_MAX (5,000) tasks on a production gateway. A create beyond
 * the cap must be refused (409); then the user's first page (500 tasks, the default limit) is
 * read in a loop from several connections (`capped_list_p99_ms`, cached as every repeated
 * read is), its size measured (`capped_list_page_bytes`), every page walked once, and pages
 * read right after a write (every read a miss: MongoDB page query and counts).
 */
import { createClient } from 'redis';
import { measureLoad, summarize } from '../lib/measure.mts';
import { createBenchStack, startGateway } from '../lib/services.mts';
import { CONFIG, progress, QUICK } from '../lib/settings.mts';
import { nowMs, percentile, round } from '../lib/stats.mts';
import { registerUsers, seedTasks } from '../lib/users.mts';

const TASKS_PER_USER_MAX = 5_000;
const PAGE = 500;

interface Page {
  tasks: unknown[];
  nextCursor: string | null;
  counts: { active: number; completed: number };
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
  const beyond = await fetch(`${gateway.url}/api/tasks`, {
    method: 'POST',
    headers: { cookie: user.cookie, 'x-csrf-token': user.csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'one beyond the cap' }),
  });
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
    },
  };
}
