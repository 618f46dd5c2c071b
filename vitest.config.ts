import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // With TEST_DATABASE_URL: checks the server and clears what killed tests left (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
  },
});
