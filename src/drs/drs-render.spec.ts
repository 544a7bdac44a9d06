import { describe, expect, it } from 'vitest';

import { BundleExpansionError, renderContents, renderDrsObject, type RenderContext } from './drs-render.js';
import { parseExpand } from './drs.dto.js';
import type { ObjectDoc } from './object.model.js';
import { portableName } from './object-input.js';

const V15: RenderContext = {
  specVersion: '1.5',
  hostname: 'hub.example.org',
  tokenIssuer: 'https://hub.example.org',
};
const V12: RenderContext = { ...V15, specVersion: '1.2' };

function doc(fields: Partial<ObjectDoc> & { id: string }): ObjectDoc {
  return {
    size: 10,
    created_time: '2025-01-01T00:00:00.000Z',
    updated_time: '2025-01-01T00:00:00.000Z',
    version: 1,
    checksums: [{ type: 'md5', checksum: 'a'.repeat(32) }],
    access_methods: [],
    child_ids: [],
    depth: 0,
    is_bundle: false,
    aliases: [],
    types: [],
    controlled: false,
    readers: [],
    mgr_site: 'hub',
    created_by: 'test',
    ...fields,
  };
}

function bundle(id: string, members: string[]): ObjectDoc {
  return doc({
    id,
    is_bundle: true,
    depth: 1,
    contents: members.map((member) => ({ name: `${member}.bin`, id: member })),
    child_ids: members,
  });
}

describe('renderDrsObject', () => {
  const stored = doc({
    id: 'sys0abc',
    blob: { key: 'f'.repeat(64) },
    access_methods: [
      { type: 's3', access_url: { url: 's3://b/k' }, region: 'us-east-1', cloud: 'aws', available: false },
    ],
  });

  it('emits the 1.3-1.5 access method fields in 1.5 mode and omits absent fields', () => {
    const view = renderDrsObject(stored, V15);
    expect(view).toEqual({
      id: 'sys0abc',
      self_uri: 'drs://hub.example.org/sys0abc',
      size: 10,
      created_time: '2025-01-01T00:00:00.000Z',
      updated_time: '2025-01-01T00:00:00.000Z',
      version: '1',
      checksums: [{ checksum: 'a'.repeat(32), type: 'md5' }],
      access_methods: [
        { type: 'https', access_id: 'https', available: true, authorizations: { supported_types: ['None'] } },
        { type: 's3', access_url: { url: 's3://b/k' }, region: 'us-east-1', cloud: 'aws', available: false },
      ],
    });
  });

  it('emits only 1.2 fields in 1.2 mode', () => {
    expect(renderDrsObject(stored, V12).access_methods).toEqual([
      { type: 'https', access_id: 'https' },
      { type: 's3', access_url: { url: 's3://b/k' }, region: 'us-east-1' },
    ]);
  });

  it('names bearer tokens as the way into controlled objects', () => {
    const view = renderDrsObject({ ...stored, controlled: true }, V15);
    expect(view.access_methods?.[0]?.authorizations).toEqual({
      supported_types: ['BearerAuth'],
      bearer_auth_issuers: ['https://hub.example.org'],
    });
  });
});

describe('renderContents', () => {
  it('lists direct members, or the whole tree when given the members', () => {
    const inner = bundle('inner', ['leaf']);
    const outer = bundle('outer', ['inner', 'leaf']);
    expect(renderContents(outer, 'h')).toEqual([
      { name: 'inner.bin', id: 'inner', drs_uri: ['drs://h/inner'] },
      { name: 'leaf.bin', id: 'leaf', drs_uri: ['drs://h/leaf'] },
    ]);
    const members = new Map([
      ['inner', inner],
      ['leaf', doc({ id: 'leaf' })],
    ]);
    expect(renderContents(outer, 'h', members)[0]?.contents).toEqual([
      { name: 'leaf.bin', id: 'leaf', drs_uri: ['drs://h/leaf'] },
    ]);
  });

  it('refuses cycles and trees deeper than 32 levels', () => {
    const a = bundle('a', ['b']);
    const b = bundle('b', ['a']);
    expect(() =>
      renderContents(
        a,
        'h',
        new Map([
          ['a', a],
          ['b', b],
        ]),
      ),
    ).toThrow(BundleExpansionError);

    const chain = new Map<string, ObjectDoc>();
    for (let level = 0; level <= 33; level++) {
      chain.set(`l${level}`, bundle(`l${level}`, [`l${level + 1}`]));
    }
    expect(() => renderContents(chain.get('l0')!, 'h', chain)).toThrow(/deeper than 32 levels/);
    expect(() => renderContents(chain.get('l2')!, 'h', chain)).not.toThrow();
  });

  it('refuses expansions that would list absurdly many entries', () => {
    const members = new Map<string, ObjectDoc>();
    for (let level = 0; level < 20; level++) {
      members.set(`d${level}`, bundle(`d${level}`, [`d${level + 1}`, `d${level + 1}`]));
    }
    expect(() => renderContents(members.get('d0')!, 'h', members)).toThrow(/more than 10000 entries/);
  });
});

describe('parseExpand and portableName', () => {
  it('reads the spellings clients send', () => {
    for (const yes of ['true', 'True', 'TRUE', '1', true, 1]) {
      expect(parseExpand(yes)).toBe(true);
    }
    for (const no of ['false', 'False', '0', '', false, 0]) {
      expect(parseExpand(no)).toBe(false);
    }
    expect(parseExpand('yes')).toBeUndefined();
  });

  it('reduces file names to portable ones', () => {
    expect(portableName('C:\\data\\my reads (1).fastq.gz')).toBe('my_reads_1_.fastq.gz');
    expect(portableName('.hidden')).toBe('hidden');
    expect(portableName('///')).toBeUndefined();
  });
});
