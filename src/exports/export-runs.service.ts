import { Injectable } from '@nestjs/common';

import { describePrincipal, type Principal } from '../auth/principal.js';
import { RunService } from '../orchestrator/api/runs.service.js';
import { exportMetadata, importMetadata, importMetadataOp } from '../site/exports.js';
import { ExportsService } from './exports.service.js';

/** Starts export and import runs on behalf of API callers; the workers do the work. */
@Injectable()
export class ExportRunsService {
  constructor(
    private readonly runs: RunService,
    private readonly exports: ExportsService,
  ) {}

  async requestExport(principal: Principal): Promise<{ run_id: string }> {
    const run = await this.runs.launch(exportMetadata.name, {}, describePrincipal(principal));
    return { run_id: run.runId };
  }

  /** Checks the object is a loadable export now, so a wrong id is a 4xx rather than a failed run later. */
  async requestImport(objectId: string, principal: Principal): Promise<{ run_id: string }> {
    await this.exports.importSourcesOfObject(objectId);
    const run = await this.runs.launch(
      importMetadata.name,
      {
        runConfig: { ops: { [importMetadataOp.name]: { config: { object_id: objectId } } } },
        tags: { object_id: objectId },
      },
      describePrincipal(principal),
    );
    return { run_id: run.runId };
  }
}
