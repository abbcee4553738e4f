import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Browser and process tests start real servers; two cores do not reward more workers.
    maxWorkers: 2,
  },
  // The widget's debug messages on, as in widget.debug.js (widget/log.ts).
  define: { __DEBUG__: 'true' },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
