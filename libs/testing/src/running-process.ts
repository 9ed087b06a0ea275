import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { sleep } from './ports.ts';

/**
 * A real process of ours (a built service, Telegraf, a private server) with its output kept
 * for diagnostics and, when `logFile` is given, written there as well.
 */
export class RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port?: number;
  readonly exited: Promise<number | null>;
  output = '';

  constructor(name: string, child: ChildProcess, port?: number, logFile?: string) {
    this.name = name;
    this.child = child;
    this.port = port;
    if (logFile) mkdirSync(dirname(logFile), { recursive: true });
    const log = logFile ? createWriteStream(logFile) : undefined;
    const keep = (chunk: Buffer) => {
      log?.write(chunk);
      this.output += chunk.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        log?.end();
        resolve(code);
      }),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Sends `signal` and waits for the process to end; with `killAfterMs`, a process still
   * running by then gets SIGKILL.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', killAfterMs?: number): Promise<number | null> {
    if (!this.isRunning) return this.exited;
    this.child.kill(signal);
    if (killAfterMs !== undefined) {
      const ended = await Promise.race([
        this.exited.then(() => true),
        sleep(killAfterMs).then(() => false),
      ]);
      if (!ended && this.isRunning) this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  /** Waits until `path` answers 200, failing early (with the output) when the process exits. */
  async waitUntilReady(path: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning) {
        throw new Error(`${this.name} exited before it was ready:\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(3_000) });
        await response.body?.cancel();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.name} not ready within ${timeoutMs / 1000} s:\n${this.output}`);
  }
}
