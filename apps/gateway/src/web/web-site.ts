import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Injectable, Logger } from '@nestjs/common';

/** The built pages (vite build, web/vite.config.mts) by route name. */
export const PAGES = {
  tasks: 'index.html',
  analytics: 'analytics.html',
  login: 'login.html',
  register: 'register.html',
} as const;

export type PageName = keyof typeof PAGES;

/** Content-hashed file names (`name-HASH.ext`) may be cached for ever. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Pages are revalidated on every load, so a deployment's new asset names apply at once. */
export const PAGE_CACHE = 'no-cache';

const ASSET_NAME = /^[\w.-]+$/;

/** dist/web of the repository (or of the image: /app/dist/web), found from this file. */
export function defaultWebRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return resolve(from, '..', '..', '..', '..', 'web');
    dir = parent;
  }
  return join(dir, 'dist', 'web');
}

interface ViteManifestEntry {
  file: string;
  src?: string;
}

/**
 * The web UI as built into dist/web: the four pages (read once, kept in memory) and the
 * allow-list of files under assets/, the only ones ever served from disk. A gateway started
 * without a build still serves the API; its pages answer 503 and say so in the log.
 */
@Injectable()
export class WebSite {
  private readonly logger = new Logger(WebSite.name);
  private readonly pages = new Map<PageName, Buffer>();
  private readonly pageTags = new Map<PageName, string>();
  private assets = new Set<string>();
  private favicon?: string;
  private lastScan = 0;

  constructor(readonly root: string = defaultWebRoot()) {
    this.scan();
    if (this.pages.size < Object.keys(PAGES).length) {
      this.logger.warn(`web UI not built in ${root}: run "npm run build"; pages answer 503`);
    }
  }

  get assetsDir(): string {
    return join(this.root, 'assets');
  }

  page(name: PageName): Buffer | undefined {
    if (!this.pages.has(name)) this.rescanAtMostEverySecond();
    return this.pages.get(name);
  }

  /** The page's ETag (computed once per read of the file), so that revalidation gets a 304. */
  pageETag(name: PageName): string | undefined {
    return this.pageTags.get(name);
  }

  /** The absolute path of an asset, or undefined when it is not one of the built files. */
  asset(name: string): string | undefined {
    if (!ASSET_NAME.test(name)) return undefined;
    // A file that appeared since (vite build --watch next to a running gateway).
    if (!this.assets.has(name)) this.rescanAtMostEverySecond();
    return this.assets.has(name) ? join(this.assetsDir, name) : undefined;
  }

  /** /assets/… of the hashed favicon, for browsers that ask for /favicon.ico anyway. */
  faviconPath(): string | undefined {
    return this.favicon;
  }

  private rescanAtMostEverySecond(): void {
    if (Date.now() - this.lastScan > 1_000) this.scan();
  }

  private scan(): void {
    this.lastScan = Date.now();
    for (const [name, file] of Object.entries(PAGES) as [PageName, string][]) {
      try {
        const body = readFileSync(join(this.root, file));
        this.pages.set(name, body);
        this.pageTags.set(name, `"${createHash('sha1').update(body).digest('base64url')}"`);
      } catch {
        this.pages.delete(name);
        this.pageTags.delete(name);
      }
    }
    try {
      this.assets = new Set(
        readdirSync(this.assetsDir, { withFileTypes: true })
          .filter((entry) => entry.isFile() && ASSET_NAME.test(entry.name))
          .map((entry) => entry.name),
      );
    } catch {
      this.assets = new Set();
    }
    try {
      const manifest = JSON.parse(
        readFileSync(join(this.root, '.vite', 'manifest.json'), 'utf8'),
      ) as Record<string, ViteManifestEntry>;
      const icon = Object.values(manifest).find((entry) => entry.src === 'favicon.svg');
      this.favicon = icon ? `/${icon.file}` : undefined;
    } catch {
      this.favicon = undefined;
    }
  }
}
