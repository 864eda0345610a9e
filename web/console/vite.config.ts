// Vite config for the Strata console UI (web/console). `npm run dev` serves src/ with an /api
// proxy to a running strata-console (STRATA_CONSOLE_URL, default http://127.0.0.1:8090);
// `npm run build` writes dist/ (or --outDir) with relative asset URLs (base './').
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: './',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    outDir: process.env.STRATA_CONSOLE_OUT_DIR || 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: { '/api': process.env.STRATA_CONSOLE_URL || 'http://127.0.0.1:8090' },
  },
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
});
