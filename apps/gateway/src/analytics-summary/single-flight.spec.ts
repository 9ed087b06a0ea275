import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('runs the work once for concurrent calls of one key and shares its result', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    let finish!: (value: number) => void;
    const work = () => {
      runs += 1;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const calls = [flights.run('u1:7d', work), flights.run('u1:7d', work)];
    finish(42);
    await expect(Promise.all(calls)).resolves.toEqual([42, 42]);
    expect(runs).toBe(1);
  });

  it('runs other keys apart, and again once a run has settled (also after a failure)', async () => {
    const flights = new SingleFlight<string>();
    const seen: string[] = [];
    const work = (value: string) => () => {
      seen.push(value);
      return value === 'boom' ? Promise.reject(new Error('boom')) : Promise.resolve(value);
    };
    await expect(flights.run('a', work('boom'))).rejects.toThrow('boom');
    await expect(
      Promise.all([flights.run('a', work('a')), flights.run('b', work('b'))]),
    ).resolves.toEqual(['a', 'b']);
    expect(seen).toEqual(['boom', 'a', 'b']);
  });
});
