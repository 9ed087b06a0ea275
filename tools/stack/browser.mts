/**
 * The browser tests drive Debian's Chromium (playwright-core cannot download its own browser
 * here). `test` calls ensureChromium() first: installed with apt-get when missing and we may.
 */
import { existsSync } from 'node:fs';
import { step } from './log.mts';
import { commandExists, run } from './process.mts';

export const CHROMIUM_PATH = process.env.TASKIT_CHROMIUM ?? '/usr/bin/chromium';

/** True unless the Jest arguments select projects that leave the browser suite out. */
export function wantsBrowserTests(jestArgs: string[]): boolean {
  const selected: string[] = [];
  for (let i = 0; i < jestArgs.length; i++) {
    const arg = jestArgs[i];
    if (arg.startsWith('--selectProjects=')) selected.push(arg.slice('--selectProjects='.length));
    else if (arg === '--selectProjects') {
      while (i + 1 < jestArgs.length && !jestArgs[i + 1].startsWith('-'))
        selected.push(jestArgs[++i]);
    }
  }
  return selected.length === 0 || selected.includes('browser');
}

export async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM_PATH)) return;
  if (process.getuid?.() !== 0 || !commandExists('apt-get')) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM_PATH}: install it ` +
        '(Debian/Ubuntu: sudo apt-get install chromium) or point TASKIT_CHROMIUM at one, ' +
        'then run again',
    );
  }
  step('installing chromium with apt-get (for the browser tests; first run only)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['install', '-y', '-q', 'chromium'], { env });
  } catch {
    // A fresh machine's package lists may be missing or stale.
    await run('apt-get', ['update', '-q'], { env });
    await run('apt-get', ['install', '-y', '-q', 'chromium'], { env });
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} is still missing`);
  }
}
