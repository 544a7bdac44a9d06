import { describe, expect, it } from 'vitest';

import { parseFindFilter, parseFindSort } from './find-syntax.js';

describe('finder syntax', () => {
  it('reads equality, numeric comparisons and searches', () => {
    expect(parseFindFilter('ecosystem_category:Plants, lat_lon.latitude:>35.0')).toEqual({
      ecosystem_category: 'Plants',
      'lat_lon.latitude': { $gt: 35 },
    });
    expect(parseFindFilter('depth.has_numeric_value:<=5')).toEqual({
      'depth.has_numeric_value': { $lte: 5 },
    });
    expect(parseFindFilter('name:>=abc')).toEqual({ name: { $gte: 'abc' } });
    expect(parseFindFilter('name.search:^soil')).toEqual({ name: { $regex: '^soil' } });
    expect(parseFindFilter('id:nmdc:sty-11-abc')).toEqual({ id: 'nmdc:sty-11-abc' });
    expect(parseFindFilter('elev:>1,elev:<5')).toEqual({
      $and: [{ elev: { $gt: 1 } }, { elev: { $lt: 5 } }],
    });
    expect(parseFindFilter('')).toEqual({});
  });

  it.each(['nocolon', ':value', 'a:b,,c'])('refuses the malformed filter %j', (raw) => {
    expect(() => parseFindFilter(raw)).toThrow(/attribute:value/);
  });

  it('reads sort directions', () => {
    expect(parseFindSort('depth.has_numeric_value:desc, name')).toEqual([
      ['depth.has_numeric_value', -1],
      ['name', 1],
    ]);
    expect(() => parseFindSort('name:sideways')).toThrow(/attribute\[:asc\|desc\]/);
  });
});
