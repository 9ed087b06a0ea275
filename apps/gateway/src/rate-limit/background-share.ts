/**
 * The part of this pod that background work may take while people wait. The rate-limit guard
 * counts the API requests the pod is serving (bulk changes excepted); a limit made here runs
 * its work like p-limit, `whenIdle` at a time while no such request is being served and
 * `whileServing` while one is. A bulk change of 50 tasks written four at a time, with its
 * events' settles behind it, otherwise takes the event loop and both cores of a small node
 * for a third of a second, and every other user's request waits that long (docs/limits.md,
 * Bulk changes beside other users). On a quiet pod a bulk change still runs at full speed.
 */
export class BackgroundShare {
  private serving = 0;
  private readonly waiting = new Set<() => void>();

  /** Counts a request as being served until the returned function is called (once). */
  serve(): () => void {
    this.serving += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.serving -= 1;
      if (this.serving === 0) this.wake();
    };
  }

  /** A limit of its own on work in flight, shrinking while a request is being served. */
  limit(whenIdle: number, whileServing = 1): <T>(work: () => Promise<T>) => Promise<T> {
    let running = 0;
    const allowed = () => (this.serving > 0 ? whileServing : whenIdle);
    return async (work) => {
      while (running >= allowed()) {
        await new Promise<void>((resolve) => this.waiting.add(resolve));
      }
      running += 1;
      try {
        return await work();
      } finally {
        running -= 1;
        this.wake();
      }
    };
  }

  /** Every waiter looks again at its own limit (a few bulk writers at most). */
  private wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resolve of waiting) resolve();
  }
}
