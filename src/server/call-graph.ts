/**
 * An execution's call graph as dataflow: one node per call (a job still running is a node
 * of its own), a solid arrow from a call whose result went into another call's argument
 * (named), and a dashed one from a call to the calls it made. Laid out on the server by
 * dagre (a layered graph layout) and drawn as SVG, each node a link to its job.
 */
import dagre, { type Edge } from "@dagrejs/dagre";
import { html } from "hono/html";
import { executionJobs, type JobInfo, type ProvenanceSource } from "../backend/queries.ts";
import { describeJobCalls } from "../backend/job-calls.ts";
import { links, short, type Html } from "./html-page.ts";
import { dataflowEdges } from "./server-queries.ts";

/** Most nodes drawn: beyond this a layered layout is unreadable (and slow). */
const MAX_NODES = 300;
const CHAR = 7.2;
const NODE_HEIGHT = 40;

interface GraphNode {
  key: string;
  job: JobInfo;
  label: string;
}

function cut(text: string, n: number): string {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

/** The nodes (a call once, by its first job) and both kinds of edges. */
async function buildGraph(source: ProvenanceSource, jobs: JobInfo[]) {
  const calls = await describeJobCalls(source, jobs, 24);
  const nodes = new Map<string, GraphNode>();
  const keyOfJob = new Map<string, string>();
  for (const job of jobs) {
    const key = job.callHash ?? `job:${job.id}`;
    keyOfJob.set(job.id, key);
    if (!nodes.has(key)) nodes.set(key, { key, job, label: calls.get(job.id) ?? job.taskName });
  }
  const edges: { from: string; to: string; kind: "data" | "calls"; label?: string }[] = [];
  const seen = new Set<string>();
  const add = (e: (typeof edges)[number]) => {
    const id = `${e.from}>${e.to}>${e.kind}>${e.label ?? ""}`;
    if (e.from === e.to || seen.has(id) || !nodes.has(e.from) || !nodes.has(e.to)) return;
    seen.add(id);
    edges.push(e);
  };
  const callHashes = [...nodes.keys()].filter((k) => !k.startsWith("job:"));
  for (const e of await dataflowEdges(source.db, callHashes))
    add({ from: e.from, to: e.to, kind: "data", label: e.argument });
  for (const job of jobs) {
    if (!job.parentId || !keyOfJob.has(job.parentId)) continue;
    add({ from: keyOfJob.get(job.parentId)!, to: keyOfJob.get(job.id)!, kind: "calls" });
  }
  return { nodes: [...nodes.values()], edges };
}

function pathOf(points: { x: number; y: number }[]): string {
  return points
    .map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(" ");
}

/** The graph of an execution's calls as SVG (with a note when it is cut). */
export async function callGraphSvg(source: ProvenanceSource, executionId: string): Promise<Html> {
  const all = await executionJobs(source.db, executionId);
  if (all.length === 0) return html`<p class="muted">No jobs recorded.</p>`;
  const { nodes: allNodes, edges } = await buildGraph(source, all);
  const nodes = allNodes.slice(0, MAX_NODES);
  const kept = new Set(nodes.map((n) => n.key));
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 70, edgesep: 10, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) {
    const text = cut(n.label, 48);
    g.setNode(n.key, { width: Math.max(90, text.length * CHAR + 44), height: NODE_HEIGHT, text });
  }
  const drawn = edges.filter((e) => kept.has(e.from) && kept.has(e.to));
  drawn.forEach((e, i) => {
    const label = e.label ? cut(e.label, 20) : undefined;
    g.setEdge(
      e.from,
      e.to,
      label
        ? { label, width: label.length * 6.6 + 6, height: 14, labelpos: "c", kind: e.kind }
        : { kind: e.kind },
      `e${i}`,
    );
  });
  dagre.layout(g);
  const { width = 200, height = 100 } = g.graph();
  const byKey = new Map(nodes.map((n) => [n.key, n]));
  const nodeSvg = g.nodes().map((key: string) => {
    const box = g.node(key) as unknown as {
      x: number;
      y: number;
      width: number;
      height: number;
      text: string;
    };
    const node = byKey.get(key)!;
    const state = node.job.cached ? "cached" : node.job.status.toLowerCase();
    const left = box.x - box.width / 2;
    const top = box.y - box.height / 2;
    return html`<a
      href="${links.job(node.job.id)}"
      class="node ${state}"
      data-node="${node.job.taskName}"
    >
      <title>
        ${node.label} — ${node.job.cached ? "CACHED" : node.job.status}, job ${short(node.job.id)}
      </title>
      <rect x="${left}" y="${top}" width="${box.width}" height="${box.height}" rx="5" />
      <text x="${left + 10}" y="${top + 16}">${cut(node.job.taskName, 44)}</text>
      <text x="${left + 10}" y="${top + 31}" fill-opacity="0.65"
        >${box.text.slice(node.job.taskName.length)}</text
      >
    </a>`;
  });
  const edgeSvg = g.edges().map((ref: Edge) => {
    const e = g.edge(ref) as unknown as {
      points: { x: number; y: number }[];
      kind: string;
      label?: string;
      x?: number;
      y?: number;
    };
    return html`<path
        class="${e.kind}"
        d="${pathOf(e.points)}"
        marker-end="url(#arrow-${e.kind})"
      />
      ${
        e.label && e.x !== undefined && e.y !== undefined
          ? html`<text class="edge-label" x="${e.x}" y="${e.y - 4}" text-anchor="middle"
              >${e.label}</text
            >`
          : ""
      }`;
  });
  return html`<p class="legend muted">
      Solid arrows: a call's result went into an argument (named) of the next. Dashed: a call made
      the other.
      ${
        allNodes.length > MAX_NODES
          ? `The first ${MAX_NODES} of ${allNodes.length} calls.`
          : `${allNodes.length} calls.`
      }
    </p>
    <div class="graph">
      <svg
        xmlns="http://www.w3.org/2000/svg"
        width="${Math.ceil(width)}"
        height="${Math.ceil(height)}"
        viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}"
        role="img"
        aria-label="call graph"
      >
        <defs>
          <marker
            id="arrow-data"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#2f5fd0" />
          </marker>
          <marker
            id="arrow-calls"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill="#b8bfcc" />
          </marker>
        </defs>
        ${edgeSvg} ${nodeSvg}
      </svg>
    </div>`;
}
