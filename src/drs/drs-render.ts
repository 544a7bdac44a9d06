import { BadRequestError } from '../common/errors/domain-errors.js';
import type { DrsSpecVersion } from '../config/app-config.js';
import type { AccessMethodDto, AuthorizationsDto, ContentsObjectDto, DrsObjectDto } from './drs.dto.js';
import {
  HUB_ACCESS_ID,
  MAX_BUNDLE_DEPTH,
  MAX_EXPANDED_ENTRIES,
  type ObjectDoc,
  type StoredAccessMethod,
} from './object.model.js';

export interface RenderContext {
  readonly specVersion: DrsSpecVersion;
  /** The host of `drs://` URIs: no scheme, no port. */
  readonly hostname: string;
  /** Issuer of the bearer tokens this hub accepts (its public base URL). */
  readonly tokenIssuer: string;
}

export function selfUri(hostname: string, id: string): string {
  return `drs://${hostname}/${id}`;
}

/** How a client authorizes `/access` (and, for controlled objects, the object itself). */
export function authorizationsOf(doc: ObjectDoc, context: RenderContext): AuthorizationsDto {
  return doc.controlled
    ? { supported_types: ['BearerAuth'], bearer_auth_issuers: [context.tokenIssuer] }
    : { supported_types: ['None'] };
}

function renderStoredAccessMethod(method: StoredAccessMethod, context: RenderContext): AccessMethodDto {
  const rendered: AccessMethodDto = {
    type: method.type,
    access_url: {
      url: method.access_url.url,
      ...(method.access_url.headers?.length ? { headers: [...method.access_url.headers] } : {}),
    },
  };
  if (method.region !== undefined) {
    rendered.region = method.region;
  }
  if (context.specVersion === '1.5') {
    if (method.cloud !== undefined) {
      rendered.cloud = method.cloud;
    }
    if (method.available !== undefined) {
      rendered.available = method.available;
    }
  }
  return rendered;
}

/** The access methods of an object: the hub's own copy first, then those the registrant gave. */
export function renderAccessMethods(doc: ObjectDoc, context: RenderContext): AccessMethodDto[] {
  const methods: AccessMethodDto[] = [];
  if (doc.blob) {
    methods.push(
      context.specVersion === '1.2'
        ? { type: 'https', access_id: HUB_ACCESS_ID }
        : {
            type: 'https',
            access_id: HUB_ACCESS_ID,
            available: true,
            authorizations: authorizationsOf(doc, context),
          },
    );
  }
  for (const method of doc.access_methods) {
    methods.push(renderStoredAccessMethod(method, context));
  }
  return methods;
}

/**
 * Renders a stored object as a DRS object: optional fields are omitted rather than null, and 1.2 mode
 * emits only what the 1.2 schemas allow. `contents` is passed in already rendered (see
 * {@link renderContents}) because expanding it needs the members.
 */
export function renderDrsObject(
  doc: ObjectDoc,
  context: RenderContext,
  contents?: ContentsObjectDto[],
): DrsObjectDto {
  const view: DrsObjectDto = {
    id: doc.id,
    self_uri: selfUri(context.hostname, doc.id),
    size: doc.size,
    created_time: doc.created_time,
    updated_time: doc.updated_time,
    version: String(doc.version),
    checksums: doc.checksums.map((c) => ({ checksum: c.checksum, type: c.type })),
  };
  if (doc.name !== undefined) {
    view.name = doc.name;
  }
  if (doc.mime_type !== undefined) {
    view.mime_type = doc.mime_type;
  }
  const accessMethods = renderAccessMethods(doc, context);
  if (accessMethods.length > 0) {
    view.access_methods = accessMethods;
  }
  if (doc.is_bundle) {
    view.contents = contents ?? renderContents(doc, context.hostname);
  }
  if (doc.description !== undefined) {
    view.description = doc.description;
  }
  if (doc.aliases.length > 0) {
    view.aliases = [...doc.aliases];
  }
  return view;
}

export class BundleExpansionError extends BadRequestError {
  constructor(message: string) {
    super(message, { code: 'bundle_not_expandable' });
  }
}

/**
 * The contents of a bundle. Without `members` only the direct entries are listed; with them (every
 * descendant, by id) nested bundles are expanded recursively. Expansion refuses cycles, trees deeper
 * than {@link MAX_BUNDLE_DEPTH} and results longer than {@link MAX_EXPANDED_ENTRIES}: the registry never
 * creates such trees, but data imported around it could.
 */
export function renderContents(
  doc: ObjectDoc,
  hostname: string,
  members?: ReadonlyMap<string, ObjectDoc>,
): ContentsObjectDto[] {
  let emitted = 0;
  const walk = (bundle: ObjectDoc, path: readonly string[]): ContentsObjectDto[] =>
    (bundle.contents ?? []).map((entry) => {
      emitted += 1;
      if (emitted > MAX_EXPANDED_ENTRIES) {
        throw new BundleExpansionError(
          `Expanding bundle "${doc.id}" would list more than ${MAX_EXPANDED_ENTRIES} entries; fetch its nested bundles one at a time without expand`,
        );
      }
      const own = selfUri(hostname, entry.id);
      const node: ContentsObjectDto = {
        name: entry.name,
        id: entry.id,
        drs_uri: [own, ...(entry.drs_uri ?? []).filter((uri) => uri !== own)],
      };
      const member = members?.get(entry.id);
      if (member?.is_bundle) {
        if (path.includes(member.id)) {
          throw new BundleExpansionError(
            `Bundle "${doc.id}" cannot be expanded: its contents form a cycle (${[...path, member.id].join(' → ')})`,
          );
        }
        if (path.length >= MAX_BUNDLE_DEPTH) {
          throw new BundleExpansionError(
            `Bundle "${doc.id}" nests deeper than ${MAX_BUNDLE_DEPTH} levels and cannot be expanded`,
          );
        }
        node.contents = walk(member, [...path, member.id]);
      }
      return node;
    });
  return walk(doc, [doc.id]);
}

/** Drops what DRS 1.2 does not define from an Authorizations answer (OPTIONS is 1.3+ anyway). */
export function renderAuthorizations(doc: ObjectDoc, context: RenderContext): AuthorizationsDto {
  return { drs_object_id: doc.id, ...authorizationsOf(doc, context) };
}
