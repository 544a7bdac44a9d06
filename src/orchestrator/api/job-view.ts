import type { JobDefinition, RetryPolicy } from '../core/index.js';

export interface JobNodeView {
  name: string;
  op: string;
  description?: string;
  inputs: {
    name: string;
    description?: string;
    optional: boolean;
    fanIn: boolean;
    sources: { node: string; output: string }[];
  }[];
  outputs: { name: string; description?: string }[];
  requiredResources: string[];
  configSchema?: Record<string, unknown>;
  retryPolicy?: RetryPolicy;
  tags: Record<string, string>;
}

export interface JobView {
  name: string;
  description?: string;
  tags: Record<string, string>;
  executor: { name: string; maxConcurrent: number };
  resources: { key: string; description?: string; configSchema?: Record<string, unknown> }[];
  graph: {
    name: string;
    nodes: JobNodeView[];
    edges: { from: { node: string; output: string }; to: { node: string; input: string } }[];
  };
}

/** A job and its graph (nodes in topological order, edges output → input) as the API shows it. */
export function jobView(job: JobDefinition): JobView {
  return {
    name: job.name,
    ...(job.description ? { description: job.description } : {}),
    tags: { ...job.tags },
    executor: { ...job.executor },
    resources: Object.entries(job.resources).map(([key, def]) => ({
      key,
      ...(def.description ? { description: def.description } : {}),
      ...(def.config ? { configSchema: { ...def.config.schema } } : {}),
    })),
    graph: {
      name: job.graph.name,
      nodes: job.graph.nodes.map((node) => {
        const retryPolicy = node.retryPolicy ?? node.op.retryPolicy ?? job.opRetryPolicy;
        return {
          name: node.name,
          op: node.op.name,
          ...(node.op.description ? { description: node.op.description } : {}),
          inputs: Object.entries(node.op.ins).map(([name, def]) => ({
            name,
            ...(def.description ? { description: def.description } : {}),
            optional: def.optional ?? false,
            fanIn: node.inputs[name]?.fanIn ?? false,
            sources: (node.inputs[name]?.sources ?? []).map((s) => ({ node: s.node, output: s.output })),
          })),
          outputs: Object.entries(node.op.outs).map(([name, def]) => ({
            name,
            ...(def.description ? { description: def.description } : {}),
          })),
          requiredResources: [...node.op.requiredResources],
          ...(node.op.config ? { configSchema: { ...node.op.config.schema } } : {}),
          ...(retryPolicy ? { retryPolicy } : {}),
          tags: { ...node.tags },
        };
      }),
      edges: job.graph.edges.map((e) => ({ from: { ...e.from }, to: { ...e.to } })),
    },
  };
}
