import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';

import { Inject, Injectable } from '@nestjs/common';

import { AuthService } from '../auth/auth.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import {
  BadRequestError,
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  type FieldProblem,
} from '../common/errors/domain-errors.js';
import { MAX_LISTED_PROBLEMS, unprocessable } from '../common/errors/problems.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ObjectReadsService } from '../drs/object-reads.service.js';
import { ObjectRegistrationService } from '../drs/object-registration.service.js';
import { HubSiteService } from '../jobs/hub-site.service.js';
import { canonicalJson } from '../metadata/json-document.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import { APPLY_CHANGESHEET_WORKFLOW } from '../site/changesheets.js';
import { parseChangesheet, type SheetProblem } from './changesheet-parser.js';
import { ChangesheetPlanner, type PlannedChange, type StoredDocument } from './changesheet-planner.js';
import { ChangesheetsRepository, type SubmissionRecord } from './changesheets.repository.js';
import type { ChangesheetSubmittedDto, ChangesheetValidDto } from './changesheets.dto.js';
import { SlotCatalog } from './slot-catalog.js';

/** The DRS object type a submitted sheet is stored as; its trigger starts apply-changesheet-1.0.0. */
export const CHANGESHEET_TYPE = 'metadata-changesheet';

/** A sheet as it arrived: its bytes, and the format its content type or file name announces. */
export interface SheetUpload {
  readonly bytes: Buffer;
  readonly format?: 'tsv' | 'csv';
  readonly filename?: string;
}

const MIME_TYPES = { tsv: 'text/tab-separated-values', csv: 'text/csv' } as const;

/** What a submission records of a document it was validated against, to tell when it changed. */
export function documentHash(doc: unknown): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

function byRow(a: SheetProblem, b: SheetProblem): number {
  return (a.row ?? 0) - (b.row ?? 0);
}

function asProblems(problems: readonly SheetProblem[]): FieldProblem[] {
  return problems.map((p) => ({
    ...(p.row !== undefined ? { row: p.row } : {}),
    ...(p.id !== undefined ? { id: p.id } : {}),
    path: p.path,
    message: p.message,
  }));
}

/**
 * Sheets coming in: decoding, parsing and planning them as a dry run on copies of the documents,
 * submission as a DRS blob (applied later by the orchestrator's apply_changesheet job), and the
 * submission record of each sheet.
 */
@Injectable()
export class ChangesheetIntake {
  private readonly catalog: SlotCatalog;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: MetadataStore,
    private readonly objects: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    private readonly sheets: ChangesheetsRepository,
    private readonly hubSite: HubSiteService,
    private readonly auth: AuthService,
  ) {
    this.catalog = new SlotCatalog(store.schema.document);
  }

  /** The largest sheet accepted (CHANGESHEET_MAX_BYTES). */
  get maxBytes(): number {
    return this.config.metadata.changesheetMaxBytes;
  }

  async validate(upload: SheetUpload): Promise<ChangesheetValidDto> {
    const { changes } = await this.plan(this.decode(upload), upload.format ?? formatOf(upload.filename));
    return {
      valid: true,
      changes: changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        before: c.before,
        after: c.after,
        patch: c.patch,
      })),
    };
  }

  async submit(upload: SheetUpload, principal: Principal): Promise<ChangesheetSubmittedDto> {
    const text = this.decode(upload);
    const { changes, format } = await this.plan(text, upload.format ?? formatOf(upload.filename));
    const rows = new Set(changes.flatMap((c) => c.rows)).size;
    const object = await this.registration.registerBlobFromStream(
      Readable.from([upload.bytes]),
      {
        name: `changesheet-${new Date().toISOString().replace(/[:.]/g, '-')}.${format}`,
        description: `Changesheet of ${rows} row(s) changing ${changes.length} document(s), submitted by ${describePrincipal(principal)}`,
        mime_type: MIME_TYPES[format],
        types: [CHANGESHEET_TYPE],
      },
      this.registration.registrantFor(principal),
      // The same bytes sent again lead back to the same object, so a retried submit is harmless.
      'reuse',
    );
    const record = this.submissionRecord(object.id, describePrincipal(principal), format, changes);
    const stored = await this.sheets.insertSubmission(record);
    if (!stored) {
      const existing = await this.sheets.getSubmission(object.id);
      if (existing?.status === 'failed') {
        await this.startOver(existing, record);
      } else if (existing && existing.status !== 'pending') {
        throw new ConflictError(
          `This sheet was submitted before as object ${object.id}, which is ${existing.status}; change the sheet to submit it again`,
          {
            extra: { object_id: object.id, status_url: this.statusUrl(object.id) },
            code: 'changesheet_already_submitted',
          },
        );
      }
    }
    return { object: this.objects.toRecord(object), status_url: this.statusUrl(object.id) };
  }

  /**
   * The same bytes as a sheet that failed (typically a conflict with a concurrent edit): the sheet was
   * just validated against the documents as they are now, so it starts over with their new hashes, and
   * its job is put back up for the hub's sensor to claim.
   */
  private async startOver(failed: SubmissionRecord, record: SubmissionRecord): Promise<void> {
    const job = await this.hubSite.jobForObject(APPLY_CHANGESHEET_WORKFLOW, failed._id);
    if (job?.status === 'claimed') {
      throw new ConflictError(
        `The failed attempt of ${failed._id} is still being reported; submit the sheet again in a few seconds`,
        {
          extra: { object_id: failed._id, status_url: this.statusUrl(failed._id) },
          code: 'changesheet_busy',
        },
      );
    }
    const restarted = await this.sheets.resubmitFailed(record, {
      submitted_by: failed.submitted_by,
      submitted_at: failed.submitted_at,
      ...(failed.failed_at ? { failed_at: failed.failed_at } : {}),
      ...(failed.error ? { error: failed.error } : {}),
      ...(failed.operation_id ? { operation_id: failed.operation_id } : {}),
    });
    if (restarted && job) {
      await this.hubSite.reopen(job.id);
    }
  }

  /**
   * Parses a sheet and plans it on copies of the current documents, checking each result against the
   * schema. 400 when the input is not a changesheet at all; 422 listing every problem with its row.
   */
  async plan(
    text: string,
    hint?: 'tsv' | 'csv',
  ): Promise<{ changes: PlannedChange[]; format: 'tsv' | 'csv' }> {
    const parsed = parseChangesheet(text, hint);
    if (!parsed.readable) {
      throw new BadRequestError(
        `This is not a readable changesheet: ${parsed.problems.map((p) => p.message).join('; ')}`,
        {
          errors: asProblems(parsed.problems).slice(0, MAX_LISTED_PROBLEMS),
          code: 'changesheet_unreadable',
          extra: { valid: false },
        },
      );
    }
    const documents = await this.currentDocuments([...new Set(parsed.commands.map((c) => c.id))]);
    const plan = new ChangesheetPlanner({
      catalog: this.catalog,
      documents,
      classOfCollection: (collection) => {
        const classes = this.store.collectionSpec(collection)?.classes ?? [];
        return classes.length === 1 ? classes[0] : undefined;
      },
      validate: (collection, doc) => this.store.schema.validateDocument(collection, doc, ''),
    }).plan(parsed.commands);
    const problems = [...parsed.problems, ...plan.problems].sort(byRow);
    if (problems.length === 0 && plan.changes.length === 0) {
      problems.push({
        path: 'sheet',
        message:
          parsed.commands.length === 0
            ? 'the sheet has no rows below its header'
            : 'the sheet changes nothing: every document already has these values',
      });
    }
    if (problems.length > 0) {
      throw unprocessable('The changesheet is not valid', asProblems(problems), {
        extra: { valid: false },
        code: 'changesheet_invalid',
      });
    }
    return { changes: plan.changes, format: parsed.format };
  }

  /** The stored documents with these ids, looked up only in the collections their typecodes allow. */
  async currentDocuments(ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const byCollection = new Map<string, string[]>();
    for (const id of ids) {
      for (const collection of this.store.collectionsForId(id)) {
        const group = byCollection.get(collection);
        if (group) {
          group.push(id);
        } else {
          byCollection.set(collection, [id]);
        }
      }
    }
    const documents = new Map<string, StoredDocument>();
    for (const [collection, wanted] of byCollection) {
      for (const doc of await this.store.getDocuments(collection, wanted)) {
        documents.set(String(doc.id), { collection, doc });
      }
    }
    return documents;
  }

  /**
   * The submission record of a changesheet object. A sheet registered through the DRS API rather than
   * `changesheets:submit` has none; it is then taken as submitted now, by whoever registered it. Only
   * the writers (apply, revert) keep that record: a status read must not fix the documents' hashes.
   */
  async recordFor(objectId: string, keep = true): Promise<SubmissionRecord> {
    const existing = await this.sheets.getSubmission(objectId);
    if (existing) {
      return existing;
    }
    const object = await this.objects.load(objectId);
    if (!object || !object.types.includes(CHANGESHEET_TYPE)) {
      throw new NotFoundError(
        object
          ? `Object ${objectId} is not a changesheet (its types are ${object.types.join(', ') || 'none'})`
          : `No changesheet has the object id ${objectId}`,
      );
    }
    let record: SubmissionRecord;
    try {
      // Registering an object is open to every site client; editing metadata is not.
      if (!(await this.auth.registrantHolds(object.created_by, 'changesheets:submit'))) {
        throw new ForbiddenError(
          `Changesheet ${objectId} was registered by ${object.created_by}, who does not hold the "changesheets:submit" allowance; it is not applied`,
        );
      }
      const { text, format } = await this.readStored(objectId);
      const { changes } = await this.plan(text, format);
      record = this.submissionRecord(objectId, object.created_by, format, changes);
    } catch (error) {
      if (!(error instanceof DomainError)) {
        throw error;
      }
      record = {
        ...this.submissionRecord(objectId, object.created_by, 'tsv', []),
        status: 'failed',
        error: this.hubSite.describeFailure(error),
        failed_at: new Date(),
      };
    }
    if (!keep) {
      return record;
    }
    await this.sheets.insertSubmission(record);
    return (await this.sheets.getSubmission(objectId)) ?? record;
  }

  private submissionRecord(
    objectId: string,
    submittedBy: string,
    format: 'tsv' | 'csv',
    changes: readonly PlannedChange[],
  ): SubmissionRecord {
    return {
      _id: objectId,
      submitted_by: submittedBy,
      submitted_at: new Date(),
      format,
      expected: changes.map((c) => ({ id: c.id, collection: c.collection, sha256: documentHash(c.before) })),
      changes: changes.map((c) => ({
        id: c.id,
        collection: c.collection,
        patch: c.patch,
        rows: [...c.rows],
      })),
      status: 'pending',
    };
  }

  /** The stored sheet of a changesheet object, and its format. */
  async readStored(objectId: string): Promise<{ text: string; format: 'tsv' | 'csv' }> {
    const blob = await this.objects.describeBlob(objectId);
    const bytes = await buffer(this.objects.readBlob(blob));
    const format =
      blob.mimeType === MIME_TYPES.csv
        ? 'csv'
        : blob.mimeType === MIME_TYPES.tsv
          ? 'tsv'
          : formatOf(blob.name);
    return { text: this.decode({ bytes }), format: format ?? 'tsv' };
  }

  /** The sheet's text: UTF-8 (a BOM is allowed), within the size limit, and not binary. */
  decode(upload: SheetUpload): string {
    const limit = this.config.metadata.changesheetMaxBytes;
    if (upload.bytes.length > limit) {
      throw new BadRequestError(
        `The sheet is ${upload.bytes.length} bytes; at most ${limit} are accepted (CHANGESHEET_MAX_BYTES)`,
        {
          errors: [{ path: 'sheet', message: 'too large' }],
          code: 'changesheet_too_large',
          extra: { valid: false },
        },
      );
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(upload.bytes);
    } catch {
      throw unreadable(
        'The sheet is not UTF-8 text; save it from your spreadsheet as UTF-8 TSV or CSV',
        'not UTF-8',
      );
    }
    if (text.includes('\u0000')) {
      throw unreadable(
        'The sheet contains NUL characters, so it is not a text file; send a TSV or CSV file',
        'binary content',
      );
    }
    return text;
  }

  private statusUrl(objectId: string): string {
    return `${this.config.http.publicBaseUrl}/metadata/changesheets/${encodeURIComponent(objectId)}`;
  }
}

function unreadable(message: string, problem: string): BadRequestError {
  return new BadRequestError(message, {
    errors: [{ path: 'sheet', message: problem }],
    code: 'changesheet_unreadable',
    extra: { valid: false },
  });
}

function formatOf(filename: string | undefined): 'tsv' | 'csv' | undefined {
  const lower = filename?.toLowerCase() ?? '';
  return lower.endsWith('.csv')
    ? 'csv'
    : lower.endsWith('.tsv') || lower.endsWith('.tab')
      ? 'tsv'
      : undefined;
}
