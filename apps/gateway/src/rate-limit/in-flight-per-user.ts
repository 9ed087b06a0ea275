/**
 * The API requests each logged-in user has under way on this pod. The budgets in Redis bound
 * how many requests an account makes per second and per window; this bounds how many of them
 * one pod works on at once, so that an account's burst (a bulk change, its first page and
 * summaries arriving together) takes the pod's event loop and MongoDB connections a few at a
 * time instead of all at once (docs/limits.md). In memory: it is about this pod's resources.
 */
export class InFlightPerUser {
  private readonly counts = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Takes a place for `userId`; false when it already has `max` under way. */
  tryEnter(userId: string): boolean {
    const count = this.counts.get(userId) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(userId, count + 1);
    return true;
  }

  leave(userId: string): void {
    const count = (this.counts.get(userId) ?? 1) - 1;
    if (count > 0) this.counts.set(userId, count);
    else this.counts.delete(userId);
  }
}
