import { defineConfig } from 'vite';

/**
 * The web UI: four static pages bundled into dist/web (run from the repository root:
 * `vite build --config web/vite.config.mts`). Asset names carry a content hash, so the
 * gateway serves dist/web/assets/* as immutable; the HTML pages are served `no-cache`.
 * Everything is local (no CDN) and nothing is inlined, to fit a `default-src 'self'` CSP.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  publicDir: false,
  appType: 'mpa',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    manifest: true,
    assetsDir: 'assets',
    // No data: URIs: every asset is a hashed file the CSP's 'self' covers.
    assetsInlineLimit: 0,
    // No inline module-preload polyfill script, so no script-src 'unsafe-inline' needed.
    modulePreload: { polyfill: false },
    // Source maps publish the front end's sources: only when asked for (WEB_SOURCE_MAPS=true).
    sourcemap: process.env.WEB_SOURCE_MAPS === 'true',
    target: 'es2022',
    rollupOptions: {
      input: {
        tasks: 'web/index.html',
        analytics: 'web/analytics.html',
        login: 'web/login.html',
        register: 'web/register.html',
      },
    },
  },
});
