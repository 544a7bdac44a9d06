import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-errors.js';
import { PageTokenCodec } from '../common/pagination/page-token.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import type { OperationDto } from '../operations/operations.dto.js';
import { OperationsService } from '../operations/operations.service.js';
import { RunService } from '../orchestrator/api/runs.service.js';
import { APPLY_CHANGESHEET_WORKFLOW } from '../site/changesheets.js';
import { ChangesheetIntake } from './changesheet-intake.service.js';
import { ChangesheetsRepository } from './changesheets.repository.js';
import type {
  ChangesheetPageDto,
  ChangesheetStatusDto,
  ListChangesheetsQueryDto,
} from './changesheets.dto.js';

/**
 * What became of submitted sheets: the list, and each sheet's status with the job, operation and run
 * that applied it and the documents before and after, as its transaction logged them.
 */
@Injectable()
export class ChangesheetStatusView {
  private readonly pageTokens: PageTokenCodec;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly intake: ChangesheetIntake,
    private readonly sheets: ChangesheetsRepository,
    private readonly hubSite: HubSiteService,
    private readonly operations: OperationsService,
    private readonly runs: RunService,
  ) {
    this.pageTokens = new PageTokenCodec(config.secrets.urlSigningKey);
  }

  /** Submitted sheets, newest first, optionally in one status. */
  async list(query: ListChangesheetsQueryDto): Promise<ChangesheetPageDto> {
    const limit = query.max_page_size ?? 20;
    const fingerprint = PageTokenCodec.fingerprint([query.status ?? null]);
    let before: { at: Date; id: string } | undefined;
    if (query.page_token) {
      const position = this.pageTokens.decode(query.page_token, 'changesheets', fingerprint);
      const cut = position.indexOf(' ');
      before = { at: new Date(position.slice(0, cut)), id: position.slice(cut + 1) };
    }
    const records = await this.sheets.listSubmissions({
      ...(query.status ? { status: query.status } : {}),
      ...(before ? { before } : {}),
      limit: limit + 1,
    });
    const page = records.slice(0, limit);
    const last = page.at(-1);
    return {
      resources: page.map((r) => ({
        object_id: r._id,
        status: r.status,
        submitted_by: r.submitted_by,
        submitted_at: r.submitted_at.toISOString(),
        documents: r.changes.length,
        ...(r.applied_at ? { applied_at: r.applied_at.toISOString() } : {}),
        ...(r.failed_at ? { failed_at: r.failed_at.toISOString() } : {}),
        ...(r.reverted_at ? { reverted_at: r.reverted_at.toISOString() } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      ...(records.length > limit && last
        ? {
            next_page_token: this.pageTokens.encode(
              'changesheets',
              `${last.submitted_at.toISOString()} ${last._id}`,
              fingerprint,
            ),
          }
        : {}),
    };
  }

  async status(objectId: string): Promise<ChangesheetStatusDto> {
    const record = await this.intake.recordFor(objectId, false);
    const job = await this.hubSite.jobForObject(APPLY_CHANGESHEET_WORKFLOW, objectId);
    // Claims from before the latest resubmission belong to the attempts that failed.
    const since = record.attempts?.length ? record.submitted_at.toISOString() : '';
    const claim = job?.claims
      .filter((c) => c.site_id === this.hubSite.principal.siteId && c.claimed_at >= since)
      .at(-1);
    const operation = claim ? await this.operationOf(claim.op_id) : undefined;
    const run = claim
      ? (await this.runs.list({ tags: { operation_id: claim.op_id }, pageSize: 1 })).runs[0]
      : undefined;
    // The documents before and after the sheet, as its transaction logged them (first before, last after).
    const logged = new Map<string, { before: Record<string, unknown>; after: Record<string, unknown> }>();
    for (const entry of record.txn_id ? await this.sheets.txnLog(record.txn_id) : []) {
      const seen = logged.get(entry.id);
      logged.set(entry.id, { before: seen?.before ?? entry.before, after: entry.after });
    }
    return {
      object_id: objectId,
      status: record.status,
      submitted_by: record.submitted_by,
      submitted_at: record.submitted_at.toISOString(),
      job: job ? { id: job.id, status: job.status } : null,
      operation: operation
        ? {
            id: operation.id,
            done: operation.done,
            ...(operation.result !== undefined ? { result: operation.result } : {}),
            ...(operation.error !== undefined ? { error: operation.error } : {}),
          }
        : null,
      run: run ? { run_id: run.runId, status: run.status } : null,
      ...(record.txn_id ? { txn_id: record.txn_id } : {}),
      ...(record.changed_ids ? { changed_ids: [...record.changed_ids] } : {}),
      ...(record.error ? { error: record.error } : {}),
      ...(record.applied_at ? { applied_at: record.applied_at.toISOString() } : {}),
      ...(record.reverted_at ? { reverted_at: record.reverted_at.toISOString() } : {}),
      ...(record.revert_txn_id ? { revert_txn_id: record.revert_txn_id } : {}),
      ...(record.attempts?.length
        ? {
            attempts: record.attempts.map((a) => ({
              submitted_by: a.submitted_by,
              submitted_at: a.submitted_at.toISOString(),
              ...(a.failed_at ? { failed_at: a.failed_at.toISOString() } : {}),
              ...(a.error ? { error: a.error } : {}),
            })),
          }
        : {}),
      changes: record.changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        patch: c.patch,
        rows: c.rows,
        ...(logged.get(c.id) ?? {}),
      })),
    };
  }

  /** A claim's operation; a claim being made has none yet. */
  private async operationOf(id: string): Promise<OperationDto | undefined> {
    try {
      return await this.operations.get(id);
    } catch (error) {
      if (error instanceof NotFoundError) {
        return undefined;
      }
      throw error;
    }
  }
}
