// Test runner settings: Node environment, one fork per file so emulator ports and gateways never clash.
import { defineConfig } from 'vitest/config';

export const config = defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/global-setup.ts'],
    env: { STRIPE_SUPPRESS_NOTICES: 'true' },
  },
});

// vitest loads the default export of its config file (eslint.config.js allows it for config files).
export default config;
