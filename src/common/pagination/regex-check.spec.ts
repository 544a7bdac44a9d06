import { describe, expect, it } from 'vitest';

import { regexProblem } from './regex-check.js';

describe('regexProblem', () => {
  it('accepts what both PCRE and RE2 compile', () => {
    for (const ok of [
      '^Stu(dy)? [0-9]+$',
      'a|b',
      '[(?=]',
      '\\(?=x',
      'x{2,3}',
      '(?:a)',
      '[]a]',
      '\\d+\\.\\d+',
    ]) {
      expect(regexProblem(ok), ok).toBeUndefined();
    }
  });

  it('names what one of them refuses', () => {
    expect(regexProblem('(?=a)')).toMatch(/lookahead/);
    expect(regexProblem('(?<!a)b')).toMatch(/lookbehind/);
    expect(regexProblem('(a)\\1')).toMatch(/backreference/);
    expect(regexProblem('(?<n>a)\\k<n>')).toMatch(/named backreference/);
    expect(regexProblem('(?>a)')).toMatch(/atomic/);
    expect(regexProblem('(a')).toMatch(/does not compile/);
    expect(regexProblem('*')).toMatch(/does not compile/);
    expect(regexProblem('a\\qb')).toMatch(/escape \\q/);
    expect(regexProblem('\\u0041')).toMatch(/escape \\u/);
  });
});
