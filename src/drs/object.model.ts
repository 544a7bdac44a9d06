import type { Checksum } from './checksums.js';

/** DRS ids use only RFC 3986 unreserved characters, so they never need percent-encoding in a path. */
export const DRS_ID_PATTERN = /^[A-Za-z0-9._~-]{1,256}$/;
/** The DRS "portable filename" characters. */
export const PORTABLE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,256}$/;
export const MIME_TYPE_PATTERN = /^[A-Za-z0-9][\w.+-]*\/[\w.+-]+$/;
export const OBJECT_TYPE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** `user:<username>` or `site:<site id>`, as `describePrincipal` writes them. */
export const READER_PATTERN = /^(user|site):[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export const ACCESS_METHOD_TYPES = [
  's3',
  'gs',
  'ftp',
  'gsiftp',
  'globus',
  'htsget',
  'https',
  'file',
] as const;
export type AccessMethodType = (typeof ACCESS_METHOD_TYPES)[number];

/** How deep bundles may nest; deeper trees are refused when registered and when expanded. */
export const MAX_BUNDLE_DEPTH = 32;
/** An expanded bundle lists at most this many entries (a shared sub-bundle counts each time it appears). */
export const MAX_EXPANDED_ENTRIES = 10_000;

/** The access id of the hub's own copy of a blob; `/access/https` turns it into a signed URL. */
export const HUB_ACCESS_ID = 'https';

export interface StoredAccessUrl {
  url: string;
  headers?: string[];
}

/** An access method the registrant supplied: always a direct URL, since only the hub resolves access ids. */
export interface StoredAccessMethod {
  type: AccessMethodType;
  access_url: StoredAccessUrl;
  region?: string;
  cloud?: string;
  available?: boolean;
}

export interface StoredContentsEntry {
  name: string;
  id: string;
  /** Further URIs for the member besides its `drs://` URI on this hub. */
  drs_uri?: string[];
}

/** An object as the `objects` collection holds it. */
export interface ObjectDoc {
  id: string;
  name?: string;
  description?: string;
  mime_type?: string;
  size: number;
  /** RFC 3339 UTC strings, so list filters can compare them as JSON strings. */
  created_time: string;
  updated_time: string;
  /** Bumped by every change; rendered as the DRS `version`. */
  version: number;
  checksums: Checksum[];
  access_methods: StoredAccessMethod[];
  /** Present only on bundles. */
  contents?: StoredContentsEntry[];
  /** Always present (empty for blobs) so "which bundles contain X" is one indexed query. */
  child_ids: string[];
  /** 0 for a blob, 1 + the deepest member for a bundle. */
  depth: number;
  is_bundle: boolean;
  aliases: string[];
  types: string[];
  controlled: boolean;
  /** Who besides the managing site and object admins may read a controlled object. */
  readers: string[];
  mgr_site: string;
  created_by: string;
  /** The hub's own copy of the bytes, when it has one. */
  blob?: { key: string };
}
