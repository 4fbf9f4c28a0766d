// Lint rules, including the walls between the rooms of src/ (see ../shared/architecture.md).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const wall = (files, patterns) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'openapi/**', 'artifacts/**', 'clients/typescript/schema.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  { files: ['eslint.config.js', 'vitest.config.ts'], rules: { 'no-restricted-syntax': 'off' } },
  // Plain Node scripts (no TypeScript, so no type-aware globals): what Node gives every module.
  { files: ['scripts/**/*.mjs'], languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } } },
  // refunds/ holds the rules: no Fastify, no Stripe, no SQL drivers.
  wall(['src/refunds/**'], [
    { group: ['fastify', 'fastify-*', '@fastify/*', 'stripe', 'pg', '@electric-sql/*'], message: 'refunds/ talks to interfaces only.' },
    { group: ['../http/*', '../stripe/*', '../ledger/*', '../emulator/*'], message: 'refunds/ imports no other room.' },
  ]),
  // Only stripe/ (and the tests that drive the emulator) may import the SDK.
  wall(['src/http/**', 'src/ledger/**', 'src/emulator/**', 'src/config.ts'], [
    { group: ['stripe'], message: 'Only src/stripe/ imports the stripe SDK.' },
  ]),
  // The console is a /v1 client running in a browser: none of the gateway's code, no Node modules. (ESLint's own rule,
  // so that these walls add to the rooms' walls above instead of replacing them.)
  {
    files: ['console/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/*', 'node:*'], message: 'The console talks to the gateway over /v1 only.' }] }] },
  },
  // The gateway serves the console's built files; it never imports its sources.
  {
    files: ['src/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/console/src/*', '**/console/*.tsx'], message: 'The console is built into dist/console and served as files.' }] }] },
  },
  // The emulator stands alone: it imports nothing of the gateway.
  wall(['src/emulator/**'], [
    { group: ['../http/*', '../refunds/*', '../stripe/*', '../ledger/*', '../app.js', '../config.js'], message: 'The emulator is its own program.' },
    { group: ['stripe'], message: 'The emulator does not use the SDK.' },
  ]),
  // The typed client is for other services: it knows the gateway only through openapi/openapi.json.
  wall(['clients/**'], [
    { group: ['**/src/*', '**/src/**', 'fastify', 'stripe', 'zod'], message: 'The client imports nothing of the gateway; regenerate it from the document.' },
  ]),
);
