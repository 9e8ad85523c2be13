import { defineConfig } from 'vitest/config';

// The suite only runs inside the scratch namespaces `npm test` makes (scripts/isolated.js);
// test/setup/isolation-guard.ts refuses to start anywhere else.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/isolation-guard.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
  },
});
