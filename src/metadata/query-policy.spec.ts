import { describe, expect, it } from 'vitest';

import { checkPipeline, checkProjection, checkUpdate } from './query-policy.js';

const POLICY = { fields: ['id', 'name', 'associated_studies'] } as const;

describe('query policy', () => {
  it('restricts $match to the collection slots until a stage reshapes the documents', () => {
    expect(checkPipeline([{ $match: { secret: 1 } }], POLICY)).toEqual([
      {
        path: '/pipeline/0/$match/secret',
        message: 'field "secret" cannot be filtered on; filterable fields: id, name, associated_studies',
      },
    ]);
    expect(
      checkPipeline(
        [
          { $group: { _id: '$associated_studies', n: { $sum: 1 } } },
          { $match: { n: { $gt: 1 } } },
          { $limit: 5 },
        ],
        POLICY,
      ),
    ).toEqual([]);
  });

  it('finds code-running operators however deep they hide', () => {
    expect(
      checkPipeline([{ $project: { a: { $cond: [true, { $function: { body: '' } }, 1] } } }], POLICY).map(
        (p) => p.path,
      ),
    ).toEqual(['/pipeline/0/$project/a/$cond/1/$function']);
    expect(checkPipeline([{ $limit: -1 }, { $skip: 1.5 }], POLICY).map((p) => p.message)).toEqual([
      '$limit takes a non-negative integer',
      '$skip takes a non-negative integer',
    ]);
  });

  it('accepts plain projections only', () => {
    expect(checkProjection({ name: 1, 'a.b': 0 }, '/projection')).toEqual([]);
    expect(checkProjection({ $where: 1, name: 'yes' }, '/projection').map((p) => p.path)).toEqual([
      '/projection/$where',
      '/projection/name',
    ]);
  });

  it('accepts allow-listed update operators that leave identity alone', () => {
    expect(
      checkUpdate({ $set: { name: 'x' }, $push: { associated_studies: 'nmdc:sty-11-a' } }, '/u'),
    ).toEqual([]);
    expect(checkUpdate({ $unset: { 'id.x': '' } }, '/u')).toEqual([
      { path: '/u/$unset/id.x', message: 'id and _id cannot be changed' },
    ]);
    expect(checkUpdate({}, '/u')[0]?.message).toMatch(/update document of operators/);
    expect(checkUpdate({ $set: {} }, '/u')[0]?.message).toBe('$set takes a non-empty object of fields');
  });
});
