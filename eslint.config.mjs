// Lint for every workspace. Besides the recommended rules it keeps the dependency graph honest:
// subgraphs never import each other or the gateway, and the gateway never imports a subgraph.
import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

const noSubgraphImports = (message) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: [
            '**/subgraphs/**',
            '@bank-hub/members',
            '@bank-hub/content',
            '@bank-hub/products',
            '@bank-hub/analytics',
          ],
          message,
        },
        { group: ['**/gateway/**', '@bank-hub/gateway'], message },
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/generated/**', 'tools/**/target/**', 'coverage/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
        module: 'writable',
        require: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['subgraphs/*/src/**/*.ts'],
    rules: noSubgraphImports(
      'a subgraph learns about other data through the graph, never by importing another workspace',
    ),
  },
  {
    files: ['gateway/src/**/*.ts', 'packages/*/src/**/*.ts'],
    rules: noSubgraphImports('the gateway and shared packages must not depend on a subgraph'),
  },
  {
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // What the hub serves to browsers: plain scripts, no build step, browser globals only.
    files: ['web/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  {
    // The explorer and the console: React apps bundled by web/build.ts, browser globals only, hooks used by the rules.
    files: ['web/explorer/**/*.{ts,tsx}', 'web/console/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
);
