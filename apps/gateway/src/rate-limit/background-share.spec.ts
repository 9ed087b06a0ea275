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

describe('BackgroundShare', () => {
  it('runs `whenIdle` at a time while no request is being served', async () => {
    const share = new BackgroundShare();
    const limit = share.limit(4);
    const { state, work, releaseAll } = gatedWork();
    const all = Array.from({ length: 10 }, () => limit(work));
    await settled();
    expect(state.running).toBe(4);
    while (state.started < 10 || state.running > 0) {
      releaseAll();
      await settled();
    }
    await Promise.all(all);
    expect(state.most).toBe(4);
  });

  it('runs one at a time while a request is being served, and widens once it has ended', async () => {
    const share = new BackgroundShare();
    const limit = share.limit(4);
    const end = share.serve();
    const { state, work, releaseAll } = gatedWork();
    const all = Array.from({ length: 6 }, () => limit(work));
    await settled();
    expect(state.running).toBe(1);
    releaseAll();
    await settled();
    expect(state.running).toBe(1);
    expect(state.started).toBe(2);

    end();
    end(); // a second call changes nothing
    await settled();
    expect(state.running).toBe(4);
    while (state.started < 6 || state.running > 0) {
      releaseAll();
      await settled();
    }
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
    while (a.state.started + b.state.started < 8 || a.state.running + b.state.running > 0) {
      a.releaseAll();
      b.releaseAll();
      await settled();
    }
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
