import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../common/errors/domain-errors.js';
import { PageTokenCodec } from '../common/pagination/page-token.js';
import type { Page } from '../common/pagination/list-request.dto.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { MetadataStore } from '../metadata/metadata-store.service.js';
import { ClassHierarchy } from './class-hierarchy.js';
import type { NmdcLinkedInstancesRequestDto } from './nmdc.dto.js';

export const CLASS_HIERARCHY = Symbol('CLASS_HIERARCHY');

/**
 * Reference slots whose target is downstream of the referring document (it came out of it). NMDC
 * classifies its slots this way; every other reference slot (`associated_studies`, `has_input`,
 * `part_of`, `was_informed_by`, …) points upstream, to what the document came from.
 */
const DOWNSTREAM_SLOTS = new Set([
  'calibration_object',
  'generates_calibration',
  'has_output',
  'in_manifest',
  'uses_calibration',
  'superseded_by',
]);
const KNOWN_UPSTREAM_SLOTS = [
  'associated_studies',
  'collected_from',
  'expected_organism',
  'has_chromatography_configuration',
  'has_input',
  'has_mass_spectrometry_configuration',
  'instrument_used',
  'part_of',
  'was_generated_by',
  'was_informed_by',
];

type Direction = 'upstream' | 'downstream';

const DEFAULT_PAGE_SIZE = 20;
const TOKEN_SCOPE = 'nmdc:linked_instances';

interface Located {
  readonly collection: string;
  readonly doc: MetadataDoc;
}

/**
 * NMDC's `GET /nmdcschema/linked_instances`: from the given ids, references are followed transitively
 * upstream and, separately, downstream (in both the referring and the referred-to direction), over every
 * metadata collection. Answers the linked documents of the requested types, in id order.
 */
@Injectable()
export class LinkedInstancesService {
  private readonly tokens: PageTokenCodec;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLASS_HIERARCHY) private readonly hierarchy: ClassHierarchy,
    private readonly store: MetadataStore,
  ) {
    this.tokens = new PageTokenCodec(config.secrets.urlSigningKey);
  }

  async linkedInstances(request: NmdcLinkedInstancesRequestDto): Promise<Page<MetadataDoc>> {
    const ids = [...new Set(request.ids)].sort();
    const types = request.types && request.types.length > 0 ? [...new Set(request.types)].sort() : undefined;
    const fingerprint = PageTokenCodec.fingerprint([ids, types ?? null]);
    const after = request.page_token
      ? this.tokens.decodeWithExtras(request.page_token, TOKEN_SCOPE, fingerprint).after
      : undefined;
    if (types) {
      this.checkTypes(types);
    }
    const nexus = await this.locateAll(ids);

    const found = new Map<string, Located & { upstreamOf: Set<string>; downstreamOf: Set<string> }>();
    for (const start of nexus) {
      for (const direction of ['downstream', 'upstream'] as const) {
        for (const reached of await this.traverse(start, direction)) {
          const id = String(reached.doc.id);
          const entry = found.get(id) ?? { ...reached, upstreamOf: new Set(), downstreamOf: new Set() };
          (direction === 'upstream' ? entry.upstreamOf : entry.downstreamOf).add(String(start.doc.id));
          found.set(id, entry);
        }
      }
    }

    const wanted = types ? new Set(types) : undefined;
    const matching = [...found.values()]
      .filter((entry) => !wanted || this.hierarchy.lineage(String(entry.doc.type)).some((t) => wanted.has(t)))
      .sort((a, b) => String(a.doc.id).localeCompare(String(b.doc.id)))
      .filter((entry) => after === undefined || String(entry.doc.id) > after);
    const limit = request.max_page_size ?? DEFAULT_PAGE_SIZE;
    const pageEntries = matching.slice(0, limit);
    const resources = pageEntries.map((entry) => ({
      ...(request.hydrate ? entry.doc : { id: entry.doc.id, type: entry.doc.type }),
      ...(entry.upstreamOf.size > 0 ? { _upstream_of: [...entry.upstreamOf].sort() } : {}),
      ...(entry.downstreamOf.size > 0 ? { _downstream_of: [...entry.downstreamOf].sort() } : {}),
    }));
    const last = pageEntries[pageEntries.length - 1];
    return {
      resources,
      ...(matching.length > limit && last
        ? { next_page_token: this.tokens.encode(TOKEN_SCOPE, String(last.doc.id), fingerprint) }
        : {}),
    };
  }

  /** NMDC answers 404 for a type it does not know; so does the hub, naming where types come from. */
  private checkTypes(types: readonly string[]): void {
    const known = new Set([...this.store.schema.classes().map((c) => c.uri), ...this.hierarchy.known()]);
    const unknown = types.filter((t) => !known.has(t));
    if (unknown.length > 0) {
      throw new NotFoundError(
        `Some types not found: ${unknown.join(', ')}. Types are the classes of the metadata schema (e.g. ${[...known].slice(0, 3).join(', ')}); abstract classes need a class hierarchy (METADATA_CLASS_HIERARCHY_PATH).`,
      );
    }
  }

  private async locateAll(ids: readonly string[]): Promise<Located[]> {
    const located = await this.fetchByIds(ids);
    const missing = ids.filter((id) => !located.has(id));
    if (missing.length > 0) {
      throw new NotFoundError(`Some IDs not found: ${missing.join(', ')}.`);
    }
    return ids.map((id) => located.get(id) as Located);
  }

  /** Reads documents by id, grouped by the collections each id may live in (primary-key reads). */
  private async fetchByIds(ids: readonly string[]): Promise<Map<string, Located>> {
    const byCollection = new Map<string, string[]>();
    for (const id of ids) {
      for (const collection of this.store.collectionsForId(id)) {
        byCollection.set(collection, [...(byCollection.get(collection) ?? []), id]);
      }
    }
    const located = new Map<string, Located>();
    for (const [collection, wanted] of byCollection) {
      for (const doc of await this.store.getDocuments(collection, wanted)) {
        located.set(String(doc.id), { collection, doc });
      }
    }
    return located;
  }

  /** Breadth-first, one level at a time: each level is one read per collection each way. */
  private async traverse(start: Located, direction: Direction): Promise<Located[]> {
    const seen = new Set([String(start.doc.id)]);
    const reached: Located[] = [];
    let frontier: Located[] = [start];
    while (frontier.length > 0) {
      const next = new Map<string, Located>();
      const targets = new Set<string>();
      for (const { collection, doc } of frontier) {
        for (const ref of this.store.schema.referencesOf(collection, doc)) {
          if (directionOf(slotOf(ref.path)) === direction && !seen.has(ref.id)) {
            targets.add(ref.id);
          }
        }
      }
      for (const [id, located] of await this.fetchByIds([...targets])) {
        next.set(id, located);
      }
      const frontierIds = new Set(frontier.map((f) => String(f.doc.id)));
      for (const referrer of await this.referrers(
        frontierIds,
        direction === 'upstream' ? 'downstream' : 'upstream',
      )) {
        next.set(String(referrer.doc.id), referrer);
      }
      frontier = [];
      for (const [id, located] of next) {
        if (!seen.has(id)) {
          seen.add(id);
          reached.push(located);
          frontier.push(located);
        }
      }
    }
    return reached;
  }

  /** Documents that refer to one of `ids` through a slot pointing in `direction`. */
  private async referrers(ids: ReadonlySet<string>, direction: Direction): Promise<Located[]> {
    const found: Located[] = [];
    for (const spec of this.store.schema.collections()) {
      if (!spec.hasId) {
        continue;
      }
      const declared = spec.classes.flatMap((name) => [
        ...(this.store.schema.classNamed(name)?.references.keys() ?? []),
      ]);
      const candidates = [...DOWNSTREAM_SLOTS, ...KNOWN_UPSTREAM_SLOTS].filter((slot) =>
        spec.fields.includes(slot),
      );
      const slots = [...new Set([...declared, ...candidates])].filter(
        (slot) => directionOf(slot) === direction,
      );
      if (slots.length === 0) {
        continue;
      }
      const filter = { $or: slots.map((slot) => ({ [slot]: { $in: [...ids] } })) };
      for (const doc of await this.store.findMatching(spec.name, filter)) {
        const refers = this.store.schema
          .referencesOf(spec.name, doc)
          .some((ref) => ids.has(ref.id) && directionOf(slotOf(ref.path)) === direction);
        if (refers) {
          found.push({ collection: spec.name, doc });
        }
      }
    }
    return found;
  }
}

function slotOf(pointer: string): string {
  return pointer.split('/')[1] ?? '';
}

function directionOf(slot: string): Direction {
  return DOWNSTREAM_SLOTS.has(slot) ? 'downstream' : 'upstream';
}
