import { checkName, DefinitionError } from './errors.js';
import { createJob, type JobDefinition, type JobOptions } from './job.js';
import type { OpDefinition } from './op.js';
import { checkRetryPolicy, type RetryPolicy } from './retry.js';

export interface OutputRef {
  readonly node: string;
  readonly output: string;
}

/** What `call` returns: usable directly as an input (the node's only output) or via `out(name)`. */
export interface NodeHandle extends OutputRef {
  readonly out: (name: string) => OutputRef;
}

/** A handle, or a deferred reference by name (`"node"` or `"node.output"`) to a node declared anywhere. */
export type InputSource = OutputRef | string;
/** One source, or a list of sources fanned in to one input (the op receives an array). */
export type InputWiring = InputSource | readonly InputSource[];

export interface CallOptions {
  /** The node's name; defaults to the op's name, then `name_2`, `name_3`… for repeated calls. */
  readonly as?: string;
  /** Overrides the op's retry policy for this invocation. */
  readonly retryPolicy?: RetryPolicy;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface GraphBuilder {
  call: (
    op: OpDefinition,
    inputs?: Readonly<Record<string, InputWiring>>,
    options?: CallOptions,
  ) => NodeHandle;
}

export interface NodeInput {
  readonly sources: readonly OutputRef[];
  /** True when the input was wired to a list: the op receives an array of the sources' values. */
  readonly fanIn: boolean;
}

export interface GraphNode {
  readonly name: string;
  readonly op: OpDefinition;
  readonly inputs: Readonly<Record<string, NodeInput>>;
  readonly retryPolicy?: RetryPolicy;
  readonly tags: Readonly<Record<string, string>>;
}

export interface GraphEdge {
  readonly from: OutputRef;
  readonly to: { readonly node: string; readonly input: string };
}

export interface GraphDefinition {
  readonly kind: 'graph';
  readonly name: string;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Nodes in a topological order (ties broken by declaration order). */
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly node: (name: string) => GraphNode | undefined;
  /** The nodes `name` reads from. */
  readonly upstreamOf: (name: string) => readonly string[];
  readonly toJob: (options?: JobOptions) => JobDefinition;
}

export interface GraphOptions {
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

const NO_SINGLE_OUTPUT = '';

interface PendingNode {
  readonly name: string;
  readonly op: OpDefinition;
  readonly wiring: Readonly<Record<string, InputWiring>>;
  readonly options: CallOptions;
}

function resolveSource(
  source: InputSource,
  nodes: ReadonlyMap<string, PendingNode>,
  where: string,
  problems: string[],
): OutputRef | undefined {
  let ref: OutputRef;
  if (typeof source === 'string') {
    const [node = '', output] = source.split('.', 2);
    const target = nodes.get(node);
    if (!target) {
      problems.push(`${where} reads from unknown node "${node}"`);
      return undefined;
    }
    const outs = Object.keys(target.op.outs);
    ref = { node, output: output ?? (outs.length === 1 ? (outs[0] ?? '') : NO_SINGLE_OUTPUT) };
  } else {
    ref = { node: source.node, output: source.output };
  }
  const target = nodes.get(ref.node);
  if (!target) {
    problems.push(`${where} reads from unknown node "${ref.node}"`);
    return undefined;
  }
  if (ref.output === NO_SINGLE_OUTPUT) {
    problems.push(
      `${where} reads from node "${ref.node}", which has several outputs (${Object.keys(target.op.outs).join(', ')}); pick one with .out(name)`,
    );
    return undefined;
  }
  if (!(ref.output in target.op.outs)) {
    problems.push(`${where} reads unknown output "${ref.output}" of node "${ref.node}"`);
    return undefined;
  }
  return ref;
}

/** Kahn's algorithm; returns the order, or the nodes left on cycles. */
function topologicalSort(
  names: readonly string[],
  upstream: ReadonlyMap<string, readonly string[]>,
): { order: string[]; cyclic: string[] } {
  const indegree = new Map(names.map((n) => [n, new Set(upstream.get(n) ?? []).size]));
  const downstream = new Map<string, string[]>(names.map((n) => [n, []]));
  for (const name of names) {
    for (const up of new Set(upstream.get(name) ?? [])) {
      downstream.get(up)?.push(name);
    }
  }
  const order: string[] = [];
  const ready = names.filter((n) => indegree.get(n) === 0);
  while (ready.length > 0) {
    const next = ready.shift() as string;
    order.push(next);
    for (const down of downstream.get(next) ?? []) {
      const left = (indegree.get(down) ?? 0) - 1;
      indegree.set(down, left);
      if (left === 0) {
        // Keep declaration order among nodes that become ready together.
        const at = ready.findIndex((r) => names.indexOf(r) > names.indexOf(down));
        ready.splice(at === -1 ? ready.length : at, 0, down);
      }
    }
  }
  return { order, cyclic: names.filter((n) => !order.includes(n)) };
}

function describeCycle(cyclic: readonly string[], upstream: ReadonlyMap<string, readonly string[]>): string {
  // Walk upstream from a node on a cycle until a node repeats; that loop is a cycle to report.
  const onCycle = new Set(cyclic);
  const path: string[] = [];
  let current = cyclic[0] ?? '';
  while (!path.includes(current)) {
    path.push(current);
    current = (upstream.get(current) ?? []).find((u) => onCycle.has(u)) ?? current;
  }
  const loop = path.slice(path.indexOf(current)).reverse();
  return [...loop, loop[0]].join(' → ');
}

/**
 * Builds a graph by calling `compose`, which wires op outputs to op inputs. Unknown inputs, required
 * inputs left unwired, references to unknown nodes or outputs, and cycles are refused here, at definition
 * time, in one error that names them all.
 */
export function graph(
  name: string,
  compose: (builder: GraphBuilder) => void,
  options: GraphOptions = {},
): GraphDefinition {
  const problems = [...checkName('graph', name)];
  const pending = new Map<string, PendingNode>();
  const builder: GraphBuilder = {
    call(opDef, inputs = {}, callOptions = {}) {
      if (!opDef || opDef.kind !== 'op') {
        throw new DefinitionError(`graph "${name}"`, ['call() expects an op definition']);
      }
      let nodeName = callOptions.as ?? opDef.name;
      if (callOptions.as === undefined) {
        for (let n = 2; pending.has(nodeName); n++) {
          nodeName = `${opDef.name}_${n}`;
        }
      } else if (pending.has(nodeName)) {
        problems.push(`two nodes are named "${nodeName}"`);
      }
      problems.push(...checkName('node', nodeName));
      problems.push(...checkRetryPolicy(callOptions.retryPolicy, `node "${nodeName}" retryPolicy`));
      pending.set(nodeName, { name: nodeName, op: opDef, wiring: inputs, options: callOptions });
      const outs = Object.keys(opDef.outs);
      return {
        node: nodeName,
        output: outs.length === 1 ? (outs[0] ?? NO_SINGLE_OUTPUT) : NO_SINGLE_OUTPUT,
        out: (output: string) => ({ node: nodeName, output }),
      };
    },
  };
  compose(builder);
  if (pending.size === 0) {
    problems.push('the graph has no nodes');
  }

  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const upstream = new Map<string, string[]>();
  for (const node of pending.values()) {
    const inputs: Record<string, NodeInput> = {};
    const unknown = Object.keys(node.wiring).filter((input) => !(input in node.op.ins));
    if (unknown.length > 0) {
      const declared = Object.keys(node.op.ins);
      problems.push(
        `node "${node.name}" has unknown input(s) ${unknown.map((u) => `"${u}"`).join(', ')} (op "${node.op.name}" declares ${declared.length > 0 ? declared.join(', ') : 'no inputs'})`,
      );
    }
    const unwired = Object.entries(node.op.ins)
      .filter(([input, def]) => !def.optional && node.wiring[input] === undefined)
      .map(([input]) => input);
    if (unwired.length > 0) {
      problems.push(
        `node "${node.name}" leaves required input(s) ${unwired.map((u) => `"${u}"`).join(', ')} unwired`,
      );
    }
    const ups: string[] = [];
    for (const [input, wiring] of Object.entries(node.wiring)) {
      if (!(input in node.op.ins) || wiring === undefined) {
        continue;
      }
      const fanIn = Array.isArray(wiring);
      const list: readonly InputSource[] = fanIn ? wiring : [wiring as InputSource];
      const sources: OutputRef[] = [];
      for (const source of list) {
        const ref = resolveSource(source, pending, `input "${node.name}.${input}"`, problems);
        if (ref) {
          sources.push(ref);
          edges.push({ from: ref, to: { node: node.name, input } });
          ups.push(ref.node);
        }
      }
      inputs[input] = { sources, fanIn };
    }
    upstream.set(node.name, [...new Set(ups)]);
    nodes.set(node.name, {
      name: node.name,
      op: node.op,
      inputs,
      ...(node.options.retryPolicy ? { retryPolicy: node.options.retryPolicy } : {}),
      tags: { ...node.op.tags, ...(node.options.tags ?? {}) },
    });
  }
  const { order, cyclic } = topologicalSort([...nodes.keys()], upstream);
  if (cyclic.length > 0) {
    problems.push(`the graph has a cycle: ${describeCycle(cyclic, upstream)}`);
  }
  if (problems.length > 0) {
    throw new DefinitionError(`graph "${name}"`, problems);
  }
  const ordered = order.map((n) => nodes.get(n) as GraphNode);
  const definition: GraphDefinition = Object.freeze({
    kind: 'graph' as const,
    name,
    ...(options.description ? { description: options.description } : {}),
    tags: { ...(options.tags ?? {}) },
    nodes: ordered,
    edges,
    node: (nodeName: string) => nodes.get(nodeName),
    upstreamOf: (nodeName: string) => upstream.get(nodeName) ?? [],
    toJob: (jobOptions: JobOptions = {}) => createJob(definition, jobOptions),
  });
  return definition;
}
