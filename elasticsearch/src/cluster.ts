// A real multi-node Elasticsearch cluster on one machine: `stacklens es start --nodes 3`.
// Each node is its own JVM from the same Maven Central distribution, with its own data path
// and ports (HTTP base+i, transport base+100+i), discovering the others through
// discovery.seed_hosts. Used by the cluster tests, the cluster benchmark and anyone who wants
// to see StackLens survive the loss of a node. Layout: .stacklens/es/<base port>/cluster.json
// and one directory per node, node-0 … node-<n-1>.
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@stacklens/common';
import { DEFAULT_ES_PORT, ES_VERSION, ensureDistribution, instanceDir, launchNode, ownedPid, probe, stopNode, writeInstanceConfig, type RunnerOptions } from './runner.js';

export const MAX_CLUSTER_NODES = 9;
/** Three JVMs share the machine: each gets at most this much heap. */
export const CLUSTER_NODE_HEAP_MB = 512;
const CLUSTER_FILE = 'cluster.json';

export interface ClusterOptions extends RunnerOptions {
  nodes: number;
  /** How long to wait for green after starting nodes (default 3 minutes). */
  waitMs?: number;
}

export interface ClusterNode {
  name: string;
  url: string;
  port: number;
  transportPort: number;
  dir: string;
  /** The node's process when stacklens started it and it still runs. */
  pid?: number;
  /** Answers HTTP on its port. */
  running: boolean;
}

export interface ClusterHealth {
  status: string;
  number_of_nodes: number;
  number_of_data_nodes: number;
  active_shards: number;
  unassigned_shards: number;
}

export interface EsCluster {
  name: string;
  dir: string;
  nodes: ClusterNode[];
  /** Every node's URL, for collector.yaml's elasticsearch.urls. */
  urls: string[];
  health?: ClusterHealth;
  /** Nodes this call started (the others were running already). */
  started: string[];
}

/** The number of nodes recorded for the cluster on this base port, or undefined when there is none. */
export function recordedClusterSize(opts: RunnerOptions = {}): number | undefined {
  try {
    const n = JSON.parse(readFileSync(join(instanceDir(opts, opts.port ?? DEFAULT_ES_PORT), CLUSTER_FILE), 'utf8')).nodes;
    return Number.isInteger(n) && n >= 2 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When `port` is the HTTP port of a node other than the first of a cluster set up here: that
 * cluster's base port and the node's name (status/start/stop address a cluster by its base port).
 */
export function clusterNodeAt(port: number, opts: RunnerOptions = {}): { base: number; name: string } | undefined {
  for (let i = 1; i < MAX_CLUSTER_NODES && port - i > 0; i++) {
    const n = recordedClusterSize({ ...opts, port: port - i });
    if (n !== undefined) return i < n ? { base: port - i, name: `stacklens-es-${i}` } : undefined;
  }
  return undefined;
}

function clusterNodes(dir: string, base: number, n: number): ClusterNode[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `stacklens-es-${i}`,
    url: `http://127.0.0.1:${base + i}`,
    port: base + i,
    transportPort: base + 100 + i,
    dir: join(dir, `node-${i}`),
    running: false,
  }));
}

async function refresh(nodes: ClusterNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      node.running = (await probe(node.url, '/_cluster/health?local=true')) !== undefined;
      node.pid = ownedPid(node.dir);
    }),
  );
}

async function health(nodes: ClusterNode[], query = ''): Promise<ClusterHealth | undefined> {
  for (const node of nodes.filter((n) => n.running)) {
    const h = await probe(node.url, `/_cluster/health${query}`);
    if (h && typeof h.status === 'string') return h as unknown as ClusterHealth;
  }
  return undefined;
}

const hasData = (nodeDir: string) => existsSync(join(nodeDir, 'data')) && readdirSync(join(nodeDir, 'data')).length > 0;

function validate(base: number, n: number): void {
  if (!Number.isInteger(n) || n < 2 || n > MAX_CLUSTER_NODES) throw new Error(`--nodes must be a whole number from 2 to ${MAX_CLUSTER_NODES} (1 is the single node), got ${n}`);
  if (base + 100 + n - 1 > 65535) throw new Error(`--port ${base} leaves no room for ${n} nodes (HTTP ${base}–${base + n - 1}, transport ${base + 100}–${base + 100 + n - 1})`);
}

/**
 * Start every node of the cluster that is not running (all of them the first time), then wait
 * until the cluster is green with all its nodes. Safe to run again after a node died: only the
 * missing ones start.
 */
export async function startCluster(opts: ClusterOptions): Promise<EsCluster> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = opts.port ?? DEFAULT_ES_PORT;
  const n = opts.nodes;
  validate(base, n);
  const dir = instanceDir(opts, base);
  const recorded = recordedClusterSize(opts);
  if (recorded !== undefined && recorded !== n) {
    throw new Error(`a ${recorded}-node cluster was set up on port ${base} (data in ${dir}): start it with --nodes ${recorded}, or remove ${dir} to make a new one`);
  }
  if (recorded === undefined && existsSync(join(dir, 'data'))) {
    throw new Error(`a single node's data is in ${join(dir, 'data')} (stacklens es start --port ${base}): a cluster here would leave it behind — remove ${dir} first, or choose another --port`);
  }
  const nodes = clusterNodes(dir, base, n);
  await refresh(nodes);
  if (recorded === undefined && nodes.some((node) => node.running)) {
    const taken = nodes.find((node) => node.running)!;
    throw new Error(`an Elasticsearch that is not this cluster already answers on ${taken.url}: stop it (stacklens es stop --port ${taken.port}) or choose another --port`);
  }
  const distDir = ensureDistribution(opts);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, CLUSTER_FILE), `${JSON.stringify({ nodes: n, version: ES_VERSION })}\n`);

  // Bootstrapping names the first master-eligible nodes once, when no node has formed a cluster
  // yet; afterwards it must be left out (a wiped node then joins the existing cluster instead of
  // forming a second one).
  const bootstrap = nodes.every((node) => !hasData(node.dir));
  const seeds = nodes.map((node) => `127.0.0.1:${node.transportPort}`).join(', ');
  const missing = nodes.filter((node) => !node.running);
  const heap = Math.min(opts.heapMb ?? CLUSTER_NODE_HEAP_MB, CLUSTER_NODE_HEAP_MB);
  for (const node of missing) {
    writeInstanceConfig(distDir, node.dir, {
      clusterName: `stacklens-${base}`,
      nodeName: node.name,
      port: node.port,
      transportPort: node.transportPort,
      discovery: [`discovery.seed_hosts: [${seeds}]`, ...(bootstrap ? [`cluster.initial_master_nodes: [${nodes.map((x) => x.name).join(', ')}]`] : [])],
    });
  }
  const started = Date.now();
  if (missing.length) log(`Starting ${missing.length} of ${n} Elasticsearch ${ES_VERSION} nodes (${missing.map((x) => x.url).join(', ')}; heap ${heap} MiB each) …`);
  // Together: a node waits for the others to form the cluster.
  await Promise.all(missing.map((node) => launchNode(distDir, node.dir, heap)));
  await refresh(nodes);

  const deadline = Date.now() + (opts.waitMs ?? 180_000);
  let last: ClusterHealth | undefined;
  let lastReport = 0;
  while (Date.now() < deadline) {
    last = await health(nodes, `?wait_for_status=green&wait_for_nodes=${n}&timeout=2s`);
    if (last?.status === 'green' && last.number_of_nodes === n) {
      log(`Elasticsearch cluster stacklens-${base} is green with ${n} nodes after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await refresh(nodes);
      return { name: `stacklens-${base}`, dir, nodes, urls: nodes.map((x) => x.url), health: last, started: missing.map((x) => x.name) };
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      if (last) log(`  waiting for green: ${last.status}, ${last.number_of_nodes}/${n} nodes, ${last.unassigned_shards} unassigned shards`);
    }
    await sleep(500);
  }
  await refresh(nodes);
  const down = nodes.filter((x) => !x.running).map((x) => `${x.name} (logs in ${join(x.dir, 'logs')})`);
  throw new Error(
    `the cluster on port ${base} did not become green with ${n} nodes within ${Math.round((opts.waitMs ?? 180_000) / 1000)} s` +
      (last ? ` (health ${last.status}, ${last.number_of_nodes} nodes, ${last.unassigned_shards} unassigned shards)` : ' (no node answers)') +
      (down.length ? `; not answering: ${down.join(', ')}` : ''),
  );
}

/** Where each node is, whether it answers, and the cluster's health (undefined when no cluster was set up on this port). */
export async function clusterStatus(opts: RunnerOptions = {}): Promise<EsCluster | undefined> {
  const n = recordedClusterSize(opts);
  if (n === undefined) return undefined;
  const base = opts.port ?? DEFAULT_ES_PORT;
  const dir = instanceDir(opts, base);
  const nodes = clusterNodes(dir, base, n);
  await refresh(nodes);
  return { name: `stacklens-${base}`, dir, nodes, urls: nodes.map((x) => x.url), health: await health(nodes), started: [] };
}

/** Stop every node of the cluster (together); its data stays for the next start. Returns the names stopped. */
export async function stopCluster(opts: RunnerOptions = {}): Promise<string[]> {
  const n = recordedClusterSize(opts);
  if (n === undefined) return [];
  const base = opts.port ?? DEFAULT_ES_PORT;
  const nodes = clusterNodes(instanceDir(opts, base), base, n);
  const stopped = await Promise.all(nodes.map((node) => stopNode(node.dir)));
  return nodes.filter((_, i) => stopped[i]).map((node) => node.name);
}
