import { readdirSync } from 'node:fs';

import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/*
 * Which code may touch what (README, "Layers and the direction of dependencies"). Drivers, queues and
 * file writes belong to repositories, stores and src/infra; the orchestrator core stays plain TypeScript;
 * only src/config reads the environment. A file outside those places that truly needs an exception is
 * named below with its reason, so a new one has to be argued for here.
 */
const DRIVERS = ['mongodb', 'pg', 'bullmq', 'ioredis'];
const DRIVER_PATTERNS = ['@aws-sdk/*'];
const FILE_WRITES = [
  'appendFile',
  'appendFileSync',
  'copyFile',
  'copyFileSync',
  'cp',
  'cpSync',
  'createWriteStream',
  'mkdir',
  'mkdirSync',
  'mkdtemp',
  'mkdtempSync',
  'open',
  'openSync',
  'rename',
  'renameSync',
  'rm',
  'rmSync',
  'rmdir',
  'rmdirSync',
  'truncate',
  'truncateSync',
  'unlink',
  'unlinkSync',
  'writeFile',
  'writeFileSync',
];
const driverPaths = [
  ...DRIVERS.map((name) => ({
    name,
    message: 'Drivers belong to repositories (*.repository.ts), stores (*.store.ts) and src/infra.',
  })),
  ...['node:fs', 'node:fs/promises', 'fs', 'fs/promises'].map((name) => ({
    name,
    importNames: FILE_WRITES,
    message: 'Writing files belongs to repositories, stores and src/infra (the blob store).',
  })),
];
const driverPatterns = [
  { group: DRIVER_PATTERNS, message: 'Drivers belong to repositories, stores and src/infra.' },
];

/** Files outside repositories, stores and src/infra that use a driver, each with its reason. */
const DRIVER_EXCEPTIONS = [
  // The orchestrator's daemon and workers are its BullMQ transport: queues, job schedulers, workers.
  'src/orchestrator/daemon/**',
  'src/orchestrator/worker/**',
  // Each cache holds its own Redis subscriber (from RedisService) for cross-process invalidation.
  'src/auth/auth-cache.ts',
  'src/drs/object-cache.ts',
  // queries:run handles documents in the driver's shapes (its Document type; the EJSON text of an `_id`
  // as a key); BSON there serialises, it does no I/O.
  'src/metadata/queries.service.ts',
  'src/metadata/query-writes.service.ts',
];

/*
 * The direction of dependencies between the folders of src/, bottom row first (README, "Layers and the
 * direction of dependencies"). A folder imports only folders on rows below its own; folders sharing a row
 * import none of each other. Types and ports go down to the folder that needs them, wiring up to the one
 * that composes them (src/hub for the orchestrator's ports, src/*.ts and src/cli for the processes).
 */
export const FOLDER_LAYERS = [
  ['config'],
  ['common'],
  ['infra'],
  ['auth'],
  ['users'],
  ['sites'],
  ['orchestrator'],
  ['site'],
  ['drs'],
  ['workflows', 'operations'],
  ['jobs'],
  ['pids'],
  ['metadata'],
  ['changesheets', 'exports', 'nmdc', 'demo', 'health', 'meta', 'docs', 'console'],
  ['hub'],
  ['cli'],
];

const unplaced = readdirSync(new URL('./src', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !FOLDER_LAYERS.flat().includes(entry.name))
  .map((entry) => `src/${entry.name}`);
if (unplaced.length > 0) {
  throw new Error(`eslint.config.js: place ${unplaced.join(', ')} in FOLDER_LAYERS`);
}

/** One config per folder, forbidding imports of every folder on its row or above. */
export const folderDirection = FOLDER_LAYERS.flatMap((row, level) =>
  row.map((folder) => {
    const notBelow = FOLDER_LAYERS.slice(level)
      .flat()
      .filter((other) => other !== folder);
    return {
      files: [`src/${folder}/**/*.ts`],
      ignores: ['src/**/*.spec.ts'],
      rules: {
        // The typescript-eslint variant, so these options do not replace the driver rules above.
        '@typescript-eslint/no-restricted-imports': [
          'error',
          notBelow.length === 0
            ? { patterns: [] }
            : {
                patterns: [
                  {
                    group: notBelow.map((other) => `**/${other}/**`),
                    message: `src/${folder} may import only folders below it in FOLDER_LAYERS (eslint.config.js): move the shared type or port down, or the wiring up.`,
                  },
                ],
              },
        ],
      },
    };
  }),
);

const layering = [
  {
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.repository.ts',
      'src/**/*.store.ts',
      'src/infra/**',
      'src/**/*.spec.ts',
      'src/orchestrator/core/**',
      ...DRIVER_EXCEPTIONS,
    ],
    rules: { 'no-restricted-imports': ['error', { paths: driverPaths, patterns: driverPatterns }] },
  },
  {
    files: ['src/orchestrator/core/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: driverPaths,
          patterns: [
            ...driverPatterns,
            {
              group: [
                '@nestjs/*',
                // Nothing of the hub but the cron grammar in src/config (its bottom layer).
                '../*.js',
                '../../*',
                '!../../config',
                '../../config/*',
                '!../../config/cron.js',
                '**/infra/**',
                '**/storage/**',
                '**/daemon/**',
                '**/worker/**',
                '**/api/**',
              ],
              message: 'The orchestrator core is plain TypeScript: no Nest, no drivers, no outer layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Configuration comes through AppConfig; only src/config reads the environment.',
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tools/**', 'coverage/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      eqeqeq: ['error', 'always'],
      curly: ['error', 'all'],
      'object-shorthand': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The web console runs in the browser and is type-checked by its own tsconfig (console/tsconfig.json).
    files: ['console/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**', '**/*.spec.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  ...layering,
  ...folderDirection,
  prettier,
);
