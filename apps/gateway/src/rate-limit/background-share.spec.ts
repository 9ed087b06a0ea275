import { BackgroundShare } from './background-share';

/** Work that runs until released; `running` counts what has started and not finished. */
function gatedWork() {
  const state = { running: 0, most: 0, started: 0 };
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<void>((resolve) => {
      state.running += 1;
      state.started += 1;
      state.most = Math.max(state.most, state.running);
      releases.push(() => {
        state.running -= 1;
        resolve();
      });
    });
  return { state, work, releaseAll: () => releases.splice(0).forEach((release) => release()) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** Releases the gated work, round after round, until `total` have started and all finished. */
async function finish(total: number, ...gates: ReturnType<typeof gatedWork>[]): Promise<void> {
  const sum = (pick: (state: ReturnType<typeof gatedWork>['state']) => number) =>
    gates.reduce((n, gate) => n + pick(gate.state), 0);
  while (sum((state) => state.started) < total || sum((state) => state.running) > 0) {
    gates.forEach((gate) => gate.releaseAll());
    await settled();
  }
}

describe('BackgroundShare', () => {
  it('runs `whenIdle` at a time while no request is being served', async () => {
    const share = new BackgroundShare();
    const limit = share.limit(4);
    const gate = gatedWork();
    const all = Array.from({ length: 10 }, () => limit(gate.work));
    await settled();
    expect(gate.state.running).toBe(4);
    await finish(10, gate);
    await Promise.all(all);
    expect(gate.state.most).toBe(4);
  });

  it('runs one at a time while a request is being served, and widens once it has ended', async () => {
    const share = new BackgroundShare();
    const limit = share.limit(4);
    const end = share.serve();
    const gate = gatedWork();
    const { state } = gate;
    const all = Array.from({ length: 6 }, () => limit(gate.work));
    await settled();
    expect(state.running).toBe(1);
    gate.releaseAll();
    await settled();
    expect(state.running).toBe(1);
    expect(state.started).toBe(2);

    end();
    end(); // a second call changes nothing
    await settled();
    expect(state.running).toBe(4);
    await finish(6, gate);
    await Promise.all(all);
  });

  it('counts every request being served, and each limit on its own', async () => {
    const share = new BackgroundShare();
    const first = share.limit(3, 2);
    const second = share.limit(2);
    const ends = [share.serve(), share.serve()];
    const a = gatedWork();
    const b = gatedWork();
    const all = [
      ...Array.from({ length: 4 }, () => first(a.work)),
      ...Array.from({ length: 4 }, () => second(b.work)),
    ];
    await settled();
    expect([a.state.running, b.state.running]).toEqual([2, 1]);
    ends[0]();
    await settled();
    expect([a.state.running, b.state.running]).toEqual([2, 1]);
    ends[1]();
    await settled();
    expect([a.state.running, b.state.running]).toEqual([3, 2]);
    await finish(8, a, b);
    await Promise.all(all);
  });

  it('frees its place when the work fails', async () => {
    const share = new BackgroundShare();
    const limit = share.limit(1);
    await expect(limit(() => Promise.reject(new Error('write failed')))).rejects.toThrow(
      'write failed',
    );
    await expect(limit(() => Promise.resolve('next'))).resolves.toBe('next');
  });
});
