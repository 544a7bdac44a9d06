import { isDeepStrictEqual } from 'node:util';

import { Inject, Injectable } from '@nestjs/common';

import type { Principal } from '../auth/principal.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
} from '../common/errors/domain-errors.js';
import type { ListRequestDto, Page } from '../common/pagination/list-request.dto.js';
import { Paginator } from '../common/pagination/paginator.js';
import { CLAIM_LEDGER, type ClaimLedger } from './claim-ledger.js';
import type { OperationDto, OperationPatchDto } from './operations.dto.js';
import { OperationsRepository, type OperationDoc } from './operations.repository.js';

const RESERVED_METADATA = new Set(['job', 'site_id', 'model']);
const OPERATION_FIELDS = [
  'id',
  'done',
  'expire_time',
  'result',
  'error',
  'cancelled',
  'metadata',
  'created_at',
  'updated_at',
];

export function toOperationDto(doc: OperationDoc): OperationDto {
  return {
    id: doc.id,
    done: doc.done,
    expire_time: doc.expire_time.toISOString(),
    ...(doc.result !== undefined && doc.result !== null ? { result: doc.result } : {}),
    ...(doc.error ? { error: doc.error } : {}),
    ...(doc.cancelled ? { cancelled: true } : {}),
    metadata: doc.metadata,
    created_at: doc.created_at.toISOString(),
    updated_at: doc.updated_at.toISOString(),
  };
}

export const DEADLINE_EXCEEDED = 'DEADLINE_EXCEEDED';

/**
 * A `result` shaped like an operation error (`{code, message, details?}`): NMDC's operation model makes
 * `result` either the outcome or such an error, so a site reporting `{"done": true, "result": {"code": …,
 * "message": …}}` reports a failure.
 */
export function isOperationError(result: unknown): result is { code: string; message: string } {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return false;
  }
  const fields = result as Record<string, unknown>;
  return (
    typeof fields.code === 'string' &&
    typeof fields.message === 'string' &&
    Object.keys(fields).every((key) => ['code', 'message', 'details'].includes(key))
  );
}

/** A claim just committed on a job, whose operation is to be written. */
export interface OperationClaim {
  operationId: string;
  jobId: string;
  workflowId: string;
  config: Record<string, unknown>;
  siteId: string;
  claimedAt: Date;
  expireTime: Date;
}

@Injectable()
export class OperationsService {
  constructor(
    private readonly operations: OperationsRepository,
    @Inject(CLAIM_LEDGER) private readonly claims: ClaimLedger,
    private readonly paginator: Paginator,
  ) {}

  /** Writes the operation of a claim just committed on its job; the claim entry already holds its id. */
  async openForClaim(claim: OperationClaim): Promise<OperationDto> {
    const operation: OperationDoc = {
      id: claim.operationId,
      done: false,
      expire_time: claim.expireTime,
      metadata: {
        job: { id: claim.jobId, workflow: { id: claim.workflowId }, config: claim.config },
        site_id: claim.siteId,
        model: 'job-operation',
      },
      created_at: claim.claimedAt,
      updated_at: claim.claimedAt,
    };
    await this.operations.insert(operation);
    return toOperationDto(operation);
  }

  /** The operation, or null while it is not written (yet). */
  async find(id: string): Promise<OperationDto | null> {
    const operation = await this.operations.findById(id);
    return operation ? toOperationDto(operation) : null;
  }

  async get(id: string): Promise<OperationDto> {
    return toOperationDto(await this.require(id));
  }

  list(request: ListRequestDto): Promise<Page<Partial<OperationDto>>> {
    return this.paginator.paginate(request, {
      scope: 'operations',
      filterPolicy: {
        fields: [
          'id',
          'done',
          'expire_time',
          'cancelled',
          'metadata',
          'error.code',
          'created_at',
          'updated_at',
        ],
      },
      fields: OPERATION_FIELDS,
      keyField: 'id',
      keyOf: (op: OperationDoc) => op.id,
      fetch: (query) => this.operations.findPage(query),
      map: toOperationDto,
    });
  }

  /**
   * A site reports on its claim: progress (metadata, merged key by key), a heartbeat (any PATCH of an open
   * operation extends the lease), or the end (done with a result or an error).
   */
  async patch(id: string, principal: Principal, patch: OperationPatchDto): Promise<OperationDto> {
    const operation = await this.require(id);
    if (principal.kind !== 'site' || principal.siteId !== operation.metadata.site_id) {
      throw new ForbiddenError(
        `Only site "${operation.metadata.site_id}", which claimed this job, may update operation "${id}"`,
      );
    }
    this.checkPatch(patch, operation);
    if (operation.done) {
      throw new ConflictError(
        `Operation "${id}" is done and cannot change; claim the job again to run it again`,
        { extra: { operation_id: id } },
      );
    }

    const now = new Date();
    if (operation.expire_time.getTime() <= now.getTime()) {
      await this.expireOne(operation, now);
      throw new ConflictError(
        `The lease of operation "${id}" ended at ${operation.expire_time.toISOString()}; claim the job again`,
        { extra: { operation_id: id }, code: 'lease_expired' },
      );
    }

    const jobId = operation.metadata.job.id;
    const set: Record<string, unknown> = { updated_at: now };
    for (const [key, value] of Object.entries(patch.metadata ?? {})) {
      if (!RESERVED_METADATA.has(key)) {
        set[`metadata.${key}`] = value;
      }
    }
    // The claim entry on the job is the source of truth: change it first (exclusively), then the operation.
    if (patch.done === true) {
      const outcome = patch.error || isOperationError(patch.result) ? 'failed' : 'done';
      if (!(await this.claims.finish(jobId, id, outcome, principal.siteId))) {
        throw new ConflictError(`Operation "${id}" was closed by another request`, {
          extra: { operation_id: id },
        });
      }
      Object.assign(
        set,
        { done: true, done_at: now },
        patch.result !== undefined ? { result: patch.result } : {},
        patch.error ? { error: patch.error } : {},
        !patch.error && isOperationError(patch.result) ? { error: patch.result } : {},
      );
    } else {
      const leaseMs = Math.max(operation.expire_time.getTime() - operation.created_at.getTime(), 1000);
      const expireTime = new Date(now.getTime() + leaseMs);
      if (!(await this.claims.extend(jobId, id, expireTime, principal.siteId))) {
        throw new ConflictError(`The claim behind operation "${id}" is no longer open`, {
          extra: { operation_id: id },
        });
      }
      set.expire_time = expireTime;
    }
    const updated = await this.operations.set(id, set);
    if (!updated) {
      throw new NotFoundError(`No operation with id "${id}"`);
    }
    return toOperationDto(updated);
  }

  /** How many open operations are past their lease. */
  countStale(now = new Date()): Promise<number> {
    return this.operations.countExpiredOpen(now);
  }

  /** Marks every open operation past its lease as failed with DEADLINE_EXCEEDED and frees its job. */
  async expireStale(now = new Date(), limit = 500): Promise<string[]> {
    const expired: string[] = [];
    for (const operation of await this.operations.findExpiredOpen(now, limit)) {
      if (await this.expireOne(operation, now)) {
        expired.push(operation.id);
      }
    }
    return expired;
  }

  /** Closes one operation whose lease has ended; false when it was still live or already closed. */
  async expireOne(operation: OperationDoc, now: Date): Promise<boolean> {
    // A takeover may have expired the claim already; the operation must say so either way.
    if (await this.claims.expireIfDue(operation.metadata.job.id, operation.id)) {
      return this.markExpired(operation.id, now);
    }
    return false;
  }

  /** Writes the end of a claim that expired onto its operation. */
  async markExpired(id: string, now: Date): Promise<boolean> {
    const closed = await this.operations.setIfOpen(id, {
      done: true,
      done_at: now,
      updated_at: now,
      error: {
        code: DEADLINE_EXCEEDED,
        message: 'The claim ended without a report before its lease ran out',
      },
    });
    return closed !== null;
  }

  /** Writes the end of a claim its site released onto its operation. */
  async markCancelled(id: string, now: Date): Promise<boolean> {
    const closed = await this.operations.setIfOpen(id, {
      done: true,
      cancelled: true,
      done_at: now,
      updated_at: now,
    });
    return closed !== null;
  }

  /** Deletes operations finished before `cutoff` (housekeeping). */
  sweepFinished(cutoff: Date): Promise<number> {
    return this.operations.deleteFinishedBefore(cutoff);
  }

  private checkPatch(patch: OperationPatchDto, operation: OperationDoc): void {
    const stored = operation.metadata as unknown as Record<string, unknown>;
    const problems = Object.entries(patch.metadata ?? {}).flatMap(([key, value]) => {
      // Clients that read the operation and send its metadata back (NMDC's do) repeat these unchanged.
      if (RESERVED_METADATA.has(key) && !isDeepStrictEqual(value, stored[key])) {
        return [{ path: `metadata.${key}`, message: `metadata.${key} is set by the hub and cannot change` }];
      }
      if (key.startsWith('$') || key.includes('.') || key === '') {
        return [
          {
            path: `metadata.${key}`,
            message: 'metadata keys may not be empty, start with $ or contain dots',
          },
        ];
      }
      return [];
    });
    if (patch.error && patch.result !== undefined) {
      problems.push({ path: 'result', message: 'send either result (success) or error (failure), not both' });
    }
    if (patch.done === false && (patch.error || patch.result !== undefined)) {
      problems.push({
        path: 'done',
        message: 'a result or error ends the operation: send done: true with it',
      });
    }
    if (problems.length > 0) {
      throw new UnprocessableError(
        `The operation update is not valid: ${problems.map((p) => p.message).join('; ')}`,
        { errors: problems },
      );
    }
  }

  private async require(id: string): Promise<OperationDoc> {
    const operation = await this.operations.findById(id);
    if (!operation) {
      throw new NotFoundError(`No operation with id "${id}"`);
    }
    return operation;
  }
}
