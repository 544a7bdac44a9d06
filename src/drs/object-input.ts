import { BadRequestError, type FieldProblem } from '../common/errors/domain-errors.js';
import { invalidInput } from '../common/errors/problems.js';
import { accessUrlProblem } from './access-url-policy.js';
import { normaliseChecksum, type Checksum } from './checksums.js';
import {
  DRS_ID_PATTERN,
  PORTABLE_NAME_PATTERN,
  type StoredAccessMethod,
  type StoredContentsEntry,
} from './object.model.js';
import type { AccessMethodInputDto, ChecksumInputDto, ObjectCreateDto } from './objects.dto.js';

/**
 * The checks and normalisations of what clients send to register or change an object. Each throws a
 * 400 (`invalid_object`) naming every problem it found.
 */

/** The members of a bundle as sent: name, object id and, optionally, where else the member lives. */
export type ContentsInput = readonly { name: string; id: string; drs_uri?: readonly string[] }[];

export function invalidObject(problems: FieldProblem[], message?: string): BadRequestError {
  return invalidInput('The object is not valid', problems, { code: 'invalid_object', message });
}

export function assertObjectId(id: string): void {
  if (!DRS_ID_PATTERN.test(id)) {
    throw new BadRequestError(
      `"${id}" is not an object id: ids are 1-256 letters, digits, ".", "_", "~" or "-"`,
      { errors: [{ path: 'object_id', message: 'invalid object id' }], code: 'invalid_object_id' },
    );
  }
}

/** A file name reduced to the DRS portable characters, or undefined when nothing usable is left. */
export function portableName(filename: string): string | undefined {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const portable = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 256);
  return portable && PORTABLE_NAME_PATTERN.test(portable) ? portable : undefined;
}

/** The object without its null-valued fields, and its access methods without theirs. */
export function withoutNulls(input: ObjectCreateDto): ObjectCreateDto {
  const kept = Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== null),
  ) as ObjectCreateDto;
  if (kept.access_methods) {
    kept.access_methods = kept.access_methods.map(
      (method) =>
        Object.fromEntries(
          Object.entries(method).filter(([, value]) => value !== null),
        ) as AccessMethodInputDto,
    );
  }
  return kept;
}

export function normaliseChecksums(input: readonly ChecksumInputDto[]): Checksum[] {
  const problems: FieldProblem[] = [];
  const result: Checksum[] = [];
  input.forEach((raw, index) => {
    const normalised = normaliseChecksum(raw);
    if (!normalised.ok) {
      problems.push({ path: `checksums[${index}]`, message: normalised.message });
    } else if (result.some((c) => c.type === normalised.value.type)) {
      problems.push({ path: `checksums[${index}]`, message: `a second ${normalised.value.type} checksum` });
    } else {
      result.push(normalised.value);
    }
  });
  if (problems.length > 0) {
    throw invalidObject(problems);
  }
  return result;
}

export function checkContents(contents: ContentsInput): StoredContentsEntry[] {
  const problems: FieldProblem[] = [];
  const names = new Set<string>();
  if (contents.length === 0) {
    problems.push({ path: 'contents', message: 'a bundle must have at least one member' });
  }
  contents.forEach((entry, index) => {
    if (!PORTABLE_NAME_PATTERN.test(entry.name)) {
      problems.push({ path: `contents[${index}].name`, message: 'name must be a portable file name' });
    }
    if (names.has(entry.name)) {
      problems.push({
        path: `contents[${index}].name`,
        message: `"${entry.name}" is listed twice; names must be unique in a bundle`,
      });
    }
    names.add(entry.name);
    if (!DRS_ID_PATTERN.test(entry.id)) {
      problems.push({
        path: `contents[${index}].id`,
        message: 'id must be an object id of letters, digits and ._~-',
      });
    }
  });
  if (problems.length > 0) {
    throw invalidObject(problems);
  }
  return contents.map((entry) => ({
    name: entry.name,
    id: entry.id,
    ...(entry.drs_uri?.length ? { drs_uri: [...new Set(entry.drs_uri)] } : {}),
  }));
}

/** A bundle's size and checksums are computed from its members; values sent must equal them. */
export function assertComputedValuesMatch(
  given: { readonly size?: number; readonly checksums?: readonly Checksum[] },
  size: number,
  checksums: readonly Checksum[],
): void {
  const problems: FieldProblem[] = [];
  if (given.size !== undefined && given.size !== size) {
    problems.push({
      path: 'size',
      message: `a bundle's size is the sum of its members: ${size}, not ${given.size}`,
    });
  }
  (given.checksums ?? []).forEach((sent, index) => {
    const computed = checksums.find((c) => c.type === sent.type);
    if (!computed) {
      problems.push({
        path: `checksums[${index}]`,
        message: `the hub cannot compute a ${sent.type} checksum for this bundle; omit it`,
      });
    } else if (computed.checksum !== sent.checksum) {
      problems.push({
        path: `checksums[${index}]`,
        message: `the bundle's ${sent.type} checksum is ${computed.checksum} (over its members' checksums), not ${sent.checksum}`,
      });
    }
  });
  if (problems.length > 0) {
    throw invalidObject(problems);
  }
}

export function toStoredAccessMethods(
  methods: readonly AccessMethodInputDto[],
  allowLoopbackHttp: boolean,
): StoredAccessMethod[] {
  const problems: FieldProblem[] = [];
  methods.forEach((method, index) => {
    const urlProblem = method.access_url
      ? accessUrlProblem(method.access_url.url, allowLoopbackHttp)
      : undefined;
    if (urlProblem) {
      problems.push({ path: `access_methods[${index}].access_url.url`, message: `the URL ${urlProblem}` });
    }
    if (method.access_id !== undefined && method.access_id !== null) {
      problems.push({
        path: `access_methods[${index}].access_id`,
        message:
          'only the hub mints access ids, for bytes it stores; give an access_url or upload the bytes with POST /objects:upload',
      });
    }
    if (!method.access_url) {
      problems.push({ path: `access_methods[${index}].access_url`, message: 'access_url is required' });
    }
  });
  if (problems.length > 0) {
    throw invalidObject(problems);
  }
  return methods.map((method) => ({
    type: method.type,
    access_url: {
      url: method.access_url?.url ?? '',
      ...(method.access_url?.headers?.length ? { headers: [...method.access_url.headers] } : {}),
    },
    ...(method.region !== undefined && method.region !== null ? { region: method.region } : {}),
    ...(method.cloud !== undefined && method.cloud !== null ? { cloud: method.cloud } : {}),
    ...(method.available !== undefined && method.available !== null ? { available: method.available } : {}),
  }));
}
