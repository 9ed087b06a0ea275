import { rmSync } from 'node:fs';
import { RunningProcess, waitFor } from './processes';

/** A process that can be stopped and started again on the same port and data. */
export abstract class RestartableServer {
  protected process?: RunningProcess;

  protected constructor(
    readonly port: number,
    protected readonly dir: string,
  ) {}

  get isRunning(): boolean {
    return this.process?.isRunning ?? false;
  }

  /** The server's output since its last start (for diagnostics). */
  get output(): string {
    return this.process?.output ?? '';
  }

  protected abstract spawnServer(): RunningProcess;
  protected abstract isUp(): Promise<boolean>;
  /** The signal that stops the server cleanly. */
  protected readonly stopSignal: NodeJS.Signals = 'SIGTERM';

  /** Starts (again) on the same port and data, and waits until it answers. */
  async resume(): Promise<void> {
    const running = this.spawnServer();
    this.process = running;
    await waitFor(
      running.name,
      async () => {
        if (!running.isRunning) throw new Error(`${running.name} exited:\n${running.output}`);
        return this.isUp();
      },
      30_000,
      100,
    );
  }

  /** Suspends the process (SIGSTOP): its connections stay open and nothing answers. */
  freeze(): void {
    this.process?.child.kill('SIGSTOP');
  }

  /** Lets a frozen process run again (SIGCONT), with its data. */
  thaw(): void {
    this.process?.child.kill('SIGCONT');
  }

  /** Stops the server (stopSignal, SIGKILL after 10 s) and waits for it to exit. */
  async pause(): Promise<void> {
    const running = this.process;
    if (!running?.isRunning) return;
    running.child.kill(this.stopSignal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      running.exited,
      new Promise((resolve) => (timer = setTimeout(resolve, 10_000))),
    ]);
    clearTimeout(timer);
    if (running.isRunning) await running.stop('SIGKILL');
  }

  /** Stops the server for good and removes its data. */
  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
