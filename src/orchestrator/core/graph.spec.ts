import { describe, expect, it } from 'vitest';

import { DefinitionError } from './errors.js';
import { graph } from './graph.js';
import { op } from './op.js';

const source = op({ name: 'source' }, () => 1);
const double = op({ name: 'double', ins: { x: {} } }, (_ctx, x: number) => x * 2);
const add = op({ name: 'add', ins: { a: {}, b: {} } }, (_ctx, a: number, b: number) => a + b);
const total = op({ name: 'total', ins: { values: {} } }, (_ctx, values: number[]) => values.length);
const split = op({ name: 'split', outs: { left: {}, right: {} } }, () => ({ left: 1, right: 2 }));

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return (error as DefinitionError).problems;
  }
  throw new Error('expected a DefinitionError');
}

describe('graph', () => {
  it('wires fan-out and fan-in and orders nodes topologically', () => {
    const g = graph('fan', ({ call }) => {
      const s = call(source);
      const a = call(double, { x: s });
      const b = call(double, { x: s });
      call(total, { values: [a, b, s] });
    });
    expect(g.nodes.map((n) => n.name)).toEqual(['source', 'double', 'double_2', 'total']);
    expect(g.node('total')?.inputs.values).toMatchObject({ fanIn: true });
    expect(g.upstreamOf('total')).toEqual(['double', 'double_2', 'source']);
    expect(g.edges).toHaveLength(5);
  });

  it('refuses unknown inputs, unwired required inputs and unknown nodes, naming each', () => {
    const problems = problemsOf(() =>
      graph('bad', ({ call }) => {
        const s = call(source);
        call(double, { y: s });
        call(add, { a: 'nowhere' });
      }),
    );
    expect(problems.join('\n')).toMatch(/node "double" has unknown input\(s\) "y"/);
    expect(problems.join('\n')).toMatch(/node "double" leaves required input\(s\) "x" unwired/);
    expect(problems.join('\n')).toMatch(/input "add.a" reads from unknown node "nowhere"/);
    expect(problems.join('\n')).toMatch(/node "add" leaves required input\(s\) "b" unwired/);
  });

  it('refuses a cycle written with deferred references and names the loop', () => {
    const problems = problemsOf(() =>
      graph('loop', ({ call }) => {
        call(double, { x: 'c' }, { as: 'a' });
        call(double, { x: 'a' }, { as: 'b' });
        call(double, { x: 'b' }, { as: 'c' });
      }),
    );
    expect(problems.join('\n')).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it('requires choosing an output of a multi-output op', () => {
    const problems = problemsOf(() =>
      graph('multi', ({ call }) => {
        const s = call(split);
        call(double, { x: s });
      }),
    );
    expect(problems.join('\n')).toMatch(/several outputs \(left, right\); pick one/);
    const ok = graph('multi_ok', ({ call }) => {
      const s = call(split);
      call(add, { a: s.out('left'), b: 'split.right' });
    });
    expect(ok.edges.map((e) => e.from.output)).toEqual(['left', 'right']);
  });

  it('refuses duplicate aliases and bad names', () => {
    const problems = problemsOf(() =>
      graph('dup', ({ call }) => {
        call(source, {}, { as: 'x' });
        call(source, {}, { as: 'x' });
        call(source, {}, { as: 'bad-name' });
      }),
    );
    expect(problems.join('\n')).toMatch(/two nodes are named "x"/);
    expect(problems.join('\n')).toMatch(/node name "bad-name"/);
  });
});
