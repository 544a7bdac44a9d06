import { Injectable } from '@nestjs/common';

import type { Principal, SitePrincipal } from '../auth/principal.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors.js';
import { unprocessable } from '../common/errors/problems.js';
import { HUB_ACCESS_ID } from '../drs/object.model.js';
import { BlobUrlSigner } from '../drs/signed-urls.js';
import { mintId } from '../common/ids/ids.js';
import { checkFilter } from '../common/pagination/filter-policy.js';
import { parseFindFilter } from '../metadata/find-syntax.js';
import { DEFAULT_PER_PAGE, type FindRequestDto, type FindResponseDto } from '../metadata/find.dto.js';
import type { Page } from '../common/pagination/list-request.dto.js';
import type { AccessUrlDto } from '../drs/drs.dto.js';
import { DrsService } from '../drs/drs.service.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { MetadataService } from '../metadata/metadata.service.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { PidsService } from '../pids/pids.service.js';
import {
  NMDC_MAX_PAGE_SIZE,
  type NmdcCollectionNameDto,
  type NmdcIdsMintRequestDto,
  type NmdcPutObjectOperationDto,
  type NmdcPutObjectRequestDto,
  type NmdcListRequestDto,
  type NmdcMessageDto,
  type NmdcRunSummaryDto,
} from './nmdc.dto.js';

/** The collections of NMDC's PlannedProcess subclasses (those the schema has are searched). */
const PLANNED_PROCESS_COLLECTIONS = [
  'data_generation_set',
  'material_processing_set',
  'workflow_execution_set',
];

/** Where the run summaries say they come from (OpenLineage's producer and schemaURL fields). */
const PRODUCER = 'runtime-hub';
const SCHEMA_URL = 'https://openlineage.io/spec/1-0-5/OpenLineage.json';
const RUN_STATUS = {
  unclaimed: 'REQUESTED',
  claimed: 'STARTED',
  failed: 'FAIL',
  done: 'COMPLETE',
} as const;

/** How long a `:putObject` upload URL is valid: NMDC's presigned S3 URLs last five minutes. */
const UPLOAD_URL_TTL_SECONDS = 300;

/** NMDC's routes, answered by the hub's own services in NMDC's shapes. */
@Injectable()
export class NmdcService {
  constructor(
    private readonly metadata: MetadataService,
    private readonly store: MetadataStore,
    private readonly drs: DrsService,
    private readonly jobs: JobsService,
    private readonly pids: PidsService,
    private readonly signer: BlobUrlSigner,
  ) {}

  /**
   * NMDC's former `POST /ids/mint`: the shoulder names the typecode (NMDC wrote them with a trailing
   * digit, `mga0`), which picks the schema class the hub's minter mints for.
   */
  async mintByShoulder(body: NmdcIdsMintRequestDto, site: SitePrincipal): Promise<string[]> {
    const typecode = body.shoulder.replace(/[0-9]+$/, '');
    const classes = this.store.schema.classes();
    const spec = classes.find((c) => c.typecodes.includes(typecode));
    if (!spec) {
      const known = [...new Set(classes.flatMap((c) => c.typecodes))].sort();
      throw new BadRequestError(
        `shoulder ${body.shoulder} names no typecode of the metadata schema; known typecodes: ${known.join(', ')}`,
        { errors: [{ path: 'shoulder', message: 'unknown typecode' }], code: 'unknown_schema_class' },
      );
    }
    const naa = body.naa ?? 'nmdc';
    const prefix = spec.idPrefix ?? this.store.schema.idPrefix;
    if (prefix && naa !== prefix) {
      throw new BadRequestError(`naa ${naa} is not the prefix of this hub's ids; use "${prefix}"`, {
        errors: [{ path: 'naa', message: `must be "${prefix}"` }],
      });
    }
    return this.pids.mint({ schema_class: { id: spec.uri }, how_many: body.number ?? 1 }, site);
  }

  /**
   * NMDC's `GET /data_objects/study/{id}`: for each biosample of the study, the data objects made from it:
   * the outputs of the data generations that took it as input, and of the workflow executions those
   * informed.
   */
  async dataObjectsForStudy(
    studyId: string,
  ): Promise<{ biosample_id: string; data_objects: MetadataDoc[] }[]> {
    if (!(await this.store.getDocument('study_set', studyId, ['id']))) {
      throw new NotFoundError(`Study not found: no study has id ${studyId}`);
    }
    const all = (collection: string, filter: Record<string, unknown>) =>
      this.store.collectionSpec(collection)
        ? this.store.findMatching(collection, filter)
        : Promise.resolve([]);
    const ids = (value: unknown): string[] =>
      Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    const samples = await all('biosample_set', { associated_studies: studyId });
    const sampleIds = samples.map((s) => String(s.id));
    const generations = await all('data_generation_set', { has_input: { $in: sampleIds } });
    const executions = await all('workflow_execution_set', {
      was_informed_by: { $in: generations.map((g) => String(g.id)) },
    });
    const outputsBySample = new Map<string, Set<string>>(sampleIds.map((id) => [id, new Set<string>()]));
    for (const generation of generations) {
      const made = [
        ...ids(generation.has_output),
        ...executions
          .filter((e) => ids(e.was_informed_by).includes(String(generation.id)))
          .flatMap((e) => ids(e.has_output)),
      ];
      for (const sampleId of ids(generation.has_input)) {
        made.forEach((id) => outputsBySample.get(sampleId)?.add(id));
      }
    }
    const objectIds = [...new Set([...outputsBySample.values()].flatMap((set) => [...set]))];
    const objects = new Map(
      (await this.store.getDocuments('data_object_set', objectIds)).map((doc) => [String(doc.id), doc]),
    );
    return sampleIds.map((sampleId) => ({
      biosample_id: sampleId,
      data_objects: [...(outputsBySample.get(sampleId) ?? [])]
        .sort()
        .flatMap((id) => (objects.has(id) ? [objects.get(id)!] : [])),
    }));
  }

  /**
   * NMDC's `GET /planned_processes`: a find (NMDC's `attribute:value` filter syntax) over every
   * collection of planned processes the schema has, one after the other in collection-name order, each
   * in id order; `page`/`per_page` page through the concatenation.
   */
  async findPlannedProcesses(request: FindRequestDto): Promise<FindResponseDto> {
    if (request.cursor !== undefined || request.sort !== undefined) {
      throw new BadRequestError('planned_processes pages by page and per_page only; drop cursor and sort', {
        errors: [{ path: request.cursor !== undefined ? 'cursor' : 'sort', message: 'not supported here' }],
      });
    }
    const specs = PLANNED_PROCESS_COLLECTIONS.map((name) => this.store.collectionSpec(name)).filter(
      (spec) => spec !== undefined,
    );
    const filter = parseFindFilter(request.filter);
    const fields = [...new Set(specs.flatMap((spec) => spec.fields))];
    const problems = checkFilter(filter, { fields });
    if (problems.length > 0) {
      throw new BadRequestError(
        `filter is not allowed: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        {
          errors: problems.map((p) => ({ path: `filter${p.path}`, message: p.message })),
          code: 'invalid_filter',
        },
      );
    }
    const started = Date.now();
    const perPage = request.per_page ?? DEFAULT_PER_PAGE;
    const page = request.page ?? 1;
    let skip = (page - 1) * perPage;
    let count = 0;
    const results: MetadataDoc[] = [];
    for (const spec of specs) {
      const matching = await this.store.countMatching(spec.name, filter);
      count += matching;
      if (skip >= matching) {
        skip -= matching;
        continue;
      }
      const wanted = perPage - results.length;
      if (wanted > 0) {
        results.push(...(await this.store.findMatching(spec.name, filter, skip, wanted)));
      }
      skip = 0;
    }
    return {
      meta: {
        mongo_filter_dict: filter,
        mongo_sort_list: null,
        count,
        db_response_time_ms: Date.now() - started,
        page,
        per_page: perPage,
      },
      results,
      group_by: [],
    };
  }

  /**
   * NMDC's `GET /runs/{id}` for the run a json:submit started: here the id is the job that applies the
   * submission, and the job's status is the run's.
   */
  async runSummary(id: string): Promise<NmdcRunSummaryDto> {
    const job = await this.jobs.get(id);
    const objectId = typeof job.config.object_id === 'string' ? job.config.object_id : undefined;
    return {
      id: job.id,
      status: RUN_STATUS[job.status as keyof typeof RUN_STATUS] ?? 'REQUESTED',
      started_at_time: job.created_at,
      was_started_by: job.created_by,
      inputs: objectId ? [objectId] : [],
      outputs: [],
      job: { id: job.workflow.id, description: job.workflow.name, producer: PRODUCER, schemaURL: SCHEMA_URL },
      producer: PRODUCER,
      schemaURL: SCHEMA_URL,
    };
  }

  collectionNames(): string[] {
    return this.store.schema.collections().map((c) => c.name);
  }

  list(collection: string, request: NmdcListRequestDto): Promise<Page<Partial<MetadataDoc>>> {
    const size = request.max_page_size;
    return this.metadata.list(collection, {
      ...request,
      max_page_size: size === undefined ? undefined : size === 0 ? NMDC_MAX_PAGE_SIZE : size,
    });
  }

  get(collection: string, id: string, projection?: string): Promise<MetadataDoc> {
    return this.metadata.get(collection, id, projection);
  }

  async getById(id: string): Promise<MetadataDoc> {
    return (await this.locate(id)).document;
  }

  async collectionNameOf(id: string): Promise<NmdcCollectionNameDto> {
    return { id, collection_name: (await this.locate(id)).collection };
  }

  /**
   * NMDC's `POST /workflows/workflow_executions`: a Database with workflow executions, checked like a
   * JSON submission and inserted at once (not through a job, so the caller can report its operation done
   * right after).
   */
  async insertWorkflowExecutions(
    payload: Record<string, unknown>,
    _principal: Principal,
  ): Promise<NmdcMessageDto> {
    const { batch } = await this.store.validateSubmission(payload);
    if (!batch.has('workflow_execution_set')) {
      throw unprocessable('The payload must include a workflow_execution_set', [
        { path: '/workflow_execution_set', message: 'is required' },
      ]);
    }
    const results = await this.store.putBatch(batch, 'insert');
    const inserted = Object.values(results).reduce((sum, r) => sum + r.inserted, 0);
    return { message: `Inserted ${inserted} documents` };
  }

  accessUrl(objectId: string, accessId: string, principal: Principal | undefined): Promise<AccessUrlDto> {
    return this.drs.getAccessUrl(objectId, accessId, principal);
  }

  /**
   * NMDC's `:putObject`: a signed URL, valid for five minutes as NMDC's, through which the site's own
   * client PUTs the bytes of a new object (served then by the hub's blob routes).
   */
  putObject(siteId: string, body: NmdcPutObjectRequestDto, site: SitePrincipal): NmdcPutObjectOperationDto {
    this.requireOwnSite(siteId, site);
    const objectId = mintId('sys0');
    const { url, expiresAt } = this.signer.signUpload(
      {
        objectId,
        site: siteId,
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.mime_type !== undefined ? { mimeType: body.mime_type } : {}),
      },
      UPLOAD_URL_TTL_SECONDS,
    );
    return {
      id: objectId,
      done: false,
      expire_time: new Date(expiresAt * 1000).toISOString(),
      metadata: {
        object_id: objectId,
        site_id: siteId,
        url,
        expires_in_seconds: UPLOAD_URL_TTL_SECONDS,
        model: 'nmdc_runtime.api.models.operation.ObjectPutMetadata',
      },
    };
  }

  private requireOwnSite(siteId: string, site: SitePrincipal): void {
    if (site.siteId !== siteId) {
      throw new ForbiddenError(
        `This client acts for site ${site.siteId}, not ${siteId}: ask with ${site.siteId} in the path`,
      );
    }
  }

  /** NMDC's `:getObjectLink`: only the site's own client, as NMDC checks the client-site pair. */
  siteObjectLink(siteId: string, objectId: string, site: SitePrincipal): Promise<AccessUrlDto> {
    this.requireOwnSite(siteId, site);
    return this.drs.getAccessUrl(objectId, HUB_ACCESS_ID, site);
  }

  private async locate(id: string): Promise<{ collection: string; document: MetadataDoc }> {
    const found = await this.store.findDocument(id);
    if (!found) {
      throw new NotFoundError(`No document has id ${id}`);
    }
    return found;
  }
}
