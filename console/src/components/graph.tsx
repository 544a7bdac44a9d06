import { Graph, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';

import type { Job } from '../api';

export type StepState = 'pending' | 'running' | 'success' | 'failure' | 'retrying' | 'skipped' | 'reused';

const NODE_W = 190;
const NODE_H = 46;

interface Laid {
  width: number;
  height: number;
  nodes: { name: string; op: string; x: number; y: number }[];
  edges: { key: string; points: { x: number; y: number }[] }[];
}

/** Lays the job's graph out top-down with dagre: ops as boxes, each data dependency as an arrow. */
function lay(job: Job): Laid {
  const g = new Graph<
    {
      width?: number;
      height?: number;
      rankdir?: string;
      nodesep?: number;
      ranksep?: number;
      marginx?: number;
      marginy?: number;
    },
    { width: number; height: number; x?: number; y?: number },
    { points?: { x: number; y: number }[] }
  >({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of job.graph.nodes) {
    g.setNode(node.name, { width: NODE_W, height: NODE_H });
  }
  job.graph.edges.forEach((e, i) => g.setEdge(e.from.node, e.to.node, {}, `e${i}`));
  layout(g);
  const label = g.graph();
  return {
    width: label.width ?? NODE_W,
    height: label.height ?? NODE_H,
    nodes: job.graph.nodes.map((n) => {
      const laid = g.node(n.name);
      return { name: n.name, op: n.op, x: laid.x ?? 0, y: laid.y ?? 0 };
    }),
    edges: g.edges().map((e) => ({ key: `${e.v}-${e.w}-${e.name ?? ''}`, points: g.edge(e).points ?? [] })),
  };
}

export function JobGraph({
  job,
  states,
  selected,
  onSelect,
}: {
  job: Job;
  states?: Record<string, StepState>;
  selected?: string;
  onSelect?: (name: string) => void;
}) {
  const laid = useMemo(() => lay(job), [job]);
  const summary = job.graph.nodes
    .map((n) => `${n.name}${states ? `: ${states[n.name] ?? 'pending'}` : ''}`)
    .join(', ');
  return (
    <div class="graph">
      <svg
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        width={laid.width}
        height={laid.height}
        role="img"
        aria-label={`Graph of ${job.name}: ${summary}`}
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="edge-head" />
          </marker>
        </defs>
        {laid.edges.map((e) => (
          <polyline
            key={e.key}
            class="edge"
            points={e.points.map((p) => `${p.x},${p.y}`).join(' ')}
            marker-end="url(#arrow)"
          />
        ))}
        {laid.nodes.map((n) => {
          const state = states ? (states[n.name] ?? 'pending') : undefined;
          return (
            <g
              key={n.name}
              class={`node${state ? ` node-${state}` : ''}${selected === n.name ? ' node-selected' : ''}`}
              transform={`translate(${n.x - NODE_W / 2},${n.y - NODE_H / 2})`}
              data-node={n.name}
              data-state={state}
              onClick={onSelect ? () => onSelect(n.name) : undefined}
            >
              <rect width={NODE_W} height={NODE_H} rx="6" />
              <text x="10" y="19" class="node-name">
                {n.name}
              </text>
              <text x="10" y="36" class="node-op">
                {state ? state : n.op}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
