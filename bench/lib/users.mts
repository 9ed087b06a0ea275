/** The benchmark's users (registered through the API) and their tasks (seeded into MongoDB). */
import { mongo } from 'mongoose';
import { insertTaskDocuments } from '../../libs/testing/src/tasks.ts';

export interface BenchUser {
  id: string;
  cookie: string;
  csrf: string;
}

export async function registerUsers(
  baseUrl: string,
  n: number,
  label: string,
): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const response = await fetch(`${baseUrl}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `${label}-${i}@bench.example`,
          password: 'bench-password-1',
        }),
      });
      if (response.status !== 201) {
        throw new Error(`register: ${response.status} ${await response.text()}`);
      }
      const body = (await response.json()) as { user: { id: string }; csrfToken: string };
      const cookie = response.headers
        .getSetCookie()
        .map((line) => line.split(';')[0])
        .find((pair) => pair.startsWith('taskit.sid='));
      if (!cookie) throw new Error('register: no session cookie');
      users[i] = { id: body.user.id, cookie, csrf: body.csrfToken };
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return users;
}

/**
 * Tasks written straight into MongoDB in the tasks service's document shape
 * (apps/gateway/src/tasks/task.schema.ts) as they are once the relay published their events:
 * `outbox: []` and no `outboxSince`. (Through the API, FerretDB takes minutes for 3,200.)
 */
export async function seedTasks(
  mongodbUri: string,
  users: BenchUser[],
  perUser: number,
): Promise<void> {
  const base = Date.now() - 86_400_000;
  const docs = users.flatMap((user, u) =>
    Array.from({ length: perUser }, (_, i) => {
      const at = new Date(base + (u * perUser + i) * 1000);
      return {
        _id: new mongo.ObjectId(),
        userId: new mongo.ObjectId(user.id),
        title: `Benchmark task ${i + 1} of user ${u + 1}`,
        done: i % 3 === 0,
        createdAt: at,
        updatedAt: at,
        deletedAt: null,
        outbox: [],
      };
    }),
  );
  await insertTaskDocuments(mongodbUri, docs);
}

export async function getJson(url: string, cookie: string): Promise<unknown> {
  const response = await fetch(url, { headers: { cookie } });
  if (response.status !== 200) {
    throw new Error(`${url}: ${response.status} ${await response.text()}`);
  }
  return response.json();
}
