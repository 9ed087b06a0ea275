import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** This folder: the stack's scripts and the SQL it applies. */
export const STACK_DIR = join(REPO_ROOT, 'tools', 'stack');
/** Built servers and tools, reused across runs (gitignored). */
export const CACHE_BIN = join(REPO_ROOT, '.cache', 'bin');
/** State of the local stack: pid files, logs and data (gitignored). */
export const RUN_DIR = join(REPO_ROOT, '.run');
export const PID_DIR = join(RUN_DIR, 'pids');
export const LOG_DIR = join(RUN_DIR, 'logs');
export const DATA_DIR = join(RUN_DIR, 'data');

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
