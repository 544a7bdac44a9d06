import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

type FlatConfig = Linter.Config;

/**
 * The folder-direction rule of eslint.config.js, run on snippets as if they were files of src/: the
 * imports the README's layer list forbids fail, the ones it allows pass.
 */
describe('the folder direction lint rule', () => {
  let layering: FlatConfig[];

  beforeAll(async () => {
    const config = (await import(pathToFileURL(resolve('eslint.config.js')).href)) as {
      default: FlatConfig[];
      folderDirection: FlatConfig[];
    };
    // Only the import rules: the type-checked ones need the whole program, which these snippets are not.
    const coreRule = config.default.filter((entry) => entry.files?.includes('src/orchestrator/core/**/*.ts'));
    layering = [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { '@typescript-eslint': tseslint.plugin },
      },
      ...coreRule,
      ...config.folderDirection,
    ];
  });

  const problems = (file: string, code: string): string[] =>
    new Linter({ cwd: process.cwd() })
      .verify(code, layering, resolve(file))
      .map((message) => `${message.ruleId}: ${message.message}`);

  it('refuses an import of a folder above, or beside on the same row', () => {
    expect(
      problems('src/operations/example.ts', "import { JobsService } from '../jobs/jobs.service.js';\n"),
    ).toEqual([
      expect.stringMatching(/no-restricted-imports.*src\/operations may import only folders below/),
    ]);
    expect(
      problems('src/auth/example.ts', "import type { UserDoc } from '../users/users.repository.js';\n"),
    ).toHaveLength(1);
    expect(
      problems(
        'src/orchestrator/api/example.ts',
        "import { HubSiteService } from '../../jobs/hub-site.service.js';\n",
      ),
    ).toHaveLength(1);
    expect(
      problems(
        'src/workflows/example.ts',
        "import { OperationsService } from '../operations/operations.service.js';\n",
      ),
    ).toHaveLength(1);
    expect(
      problems('src/common/example.ts', "import { LOGGER } from '../infra/logging/logging.module.js';\n"),
    ).toHaveLength(1);
  });

  it('allows imports of folders below and within the folder', () => {
    expect(
      problems(
        'src/jobs/example.ts',
        [
          "import { OperationsService } from '../operations/operations.service.js';",
          "import { WORK_ARRIVED } from '../orchestrator/work-arrived.js';",
          "import { JobsRepository } from './jobs.repository.js';",
          '',
        ].join('\n'),
      ),
    ).toEqual([]);
    expect(
      problems(
        'src/hub/example.ts',
        "import { ChangesheetsService } from '../changesheets/changesheets.service.js';\n",
      ),
    ).toEqual([]);
  });

  it('keeps the orchestrator core to itself and the cron grammar', () => {
    expect(
      problems('src/orchestrator/core/example.ts', "import { checkCron } from '../../config/cron.js';\n"),
    ).toEqual([]);
    for (const source of ['../../config/app-config.js', '../workspace.js', '../../common/ids/ids.js']) {
      expect(problems('src/orchestrator/core/example.ts', `import { x } from '${source}';\n`)).toHaveLength(
        1,
      );
    }
  });
});
