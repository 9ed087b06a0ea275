import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { defaultWebRoot, WebSite } from './web-site';

describe('WebSite', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'taskit-web-'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function build(): void {
    for (const page of ['index', 'analytics', 'login', 'register']) {
      writeFileSync(join(root, `${page}.html`), `<title>${page}</title>`);
    }
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'assets', 'tasks-AbCd1234.js'), 'export {};');
    writeFileSync(join(root, 'assets', 'favicon-Zz9_-8Yx.svg'), '<svg/>');
    mkdirSync(join(root, '.vite'));
    writeFileSync(
      join(root, '.vite', 'manifest.json'),
      JSON.stringify({
        'favicon.svg': { file: 'assets/favicon-Zz9_-8Yx.svg', src: 'favicon.svg' },
      }),
    );
  }

  it('serves the built pages and only the files of assets/', () => {
    build();
    const site = new WebSite(root);
    expect(site.page('tasks')?.toString()).toBe('<title>index</title>');
    expect(site.page('register')?.toString()).toBe('<title>register</title>');
    expect(site.asset('tasks-AbCd1234.js')).toBe(join(root, 'assets', 'tasks-AbCd1234.js'));
    expect(site.asset('missing-00000000.js')).toBeUndefined();
    expect(site.asset('../index.html')).toBeUndefined();
    expect(site.asset('..')).toBeUndefined();
    expect(site.faviconPath()).toBe('/assets/favicon-Zz9_-8Yx.svg');
  });

  it('gives each page an ETag of its content', () => {
    build();
    const site = new WebSite(root);
    expect(site.pageETag('tasks')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(site.pageETag('tasks')).toBe(new WebSite(root).pageETag('tasks'));
    expect(site.pageETag('login')).not.toBe(site.pageETag('tasks'));
  });

  it('answers nothing (not a crash) without a build', () => {
    const site = new WebSite(join(root, 'not-built'));
    expect(site.page('tasks')).toBeUndefined();
    expect(site.pageETag('tasks')).toBeUndefined();
    expect(site.asset('tasks-AbCd1234.js')).toBeUndefined();
    expect(site.faviconPath()).toBeUndefined();
  });

  it('finds dist/web of the repository from the source location', () => {
    expect(defaultWebRoot(__dirname)).toBe(join(__dirname, '..', '..', '..', '..', 'dist', 'web'));
  });

  it('finds dist/web of the repository from the compiled location', () => {
    writeFileSync(join(root, 'package.json'), '{}');
    const compiled = join(root, 'dist', 'apps', 'gateway', 'src', 'web');
    mkdirSync(compiled, { recursive: true });
    expect(defaultWebRoot(compiled)).toBe(join(root, 'dist', 'web'));
  });

  it('falls back to dist/web beside the compiled apps when no package.json is above', () => {
    const compiled = join(root, 'dist', 'apps', 'gateway', 'src', 'web');
    mkdirSync(compiled, { recursive: true });
    // The fallback is reached only if no folder above the temporary one holds a package.json.
    for (let dir = root; dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dirname(dir), 'package.json'))).toBe(false);
    }
    expect(defaultWebRoot(compiled)).toBe(join(root, 'dist', 'web'));
  });
});
