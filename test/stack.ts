// A stack for incident tests: an agent tailing one POS log into its own namespace, one or
// more collectors running the rules of a directory, and helpers to read incidents.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { posErrorLine, rng } from '@stacklens/demo';
import { TemplateCatalog } from '@stacklens/detection';
import { LogWriter, startAgent, startCollector, tempDir, uniqueNamespace, type AgentHandle, type CollectorHandle } from './helpers.js';

export const ADMIN = 'admin-token-for-tests-0001';
export const VIEWER = 'viewer-token-for-tests-0001';

/** The example rule, reading only this test's namespace. */
export const missingPriceRule = (ns: string, extra = '') => `name: pos-missing-price
description: Products sold without a price
severity: critical
dataset: pos
namespace: ${ns}
filter:
  error.type: MISSING_PRICE      # field: value (list = any of); or \`query:\` with ES DSL
type: frequency
threshold: 3                     # ≥ 3 matches …
window: 1m                       # … within 1 minute
group_by: [pos.store_id]         # one incident per store
realert: 10m
runbook: Set the product's price in the master data, then re-run the order.
${extra}`;

/** An \`any\` rule: every MISSING_PRICE line of this test's namespace, one incident per store. */
export const missingPriceAnyRule = (name: string, extra = '') => `name: ${name}
description: Products sold without a price
severity: critical
dataset: pos
namespace: $NS
filter:
  error.type: MISSING_PRICE
type: any
group_by: [pos.store_id]
realert: 10m
runbook: Set the product's price in the master data, then re-run the order.
${extra}
`;

/** A credential-shaped value made at run time, so none sits in the repository. */
export const testSecret = (kind: string) => [kind, Math.random().toString(36).slice(2), Math.random().toString(36).slice(2)].join('-');

export interface Stack {
  ns: string;
  dir: string;
  collectors: CollectorHandle[];
  agent: AgentHandle;
  log: LogWriter;
  rules: string;
}

export async function startStack(esUrl: string | string[], running: (AgentHandle | CollectorHandle)[], rules: Record<string, string>, opts: { collectors?: number; extra?: string; env?: Record<string, string> } = {}): Promise<Stack> {
  const ns = uniqueNamespace();
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const rulesDir = join(dir, 'rules');
  mkdirSync(rulesDir);
  for (const [file, text] of Object.entries(rules)) writeFileSync(join(rulesDir, file), text.replaceAll('$NS', ns));
  const token = `agent-token-${ns}`;
  const extra = `detection:\n  schedule: 500ms\napi:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\n${opts.extra ?? ''}`;
  const collectors: CollectorHandle[] = [];
  for (let i = 0; i < (opts.collectors ?? 1); i++) {
    // Each collector has its own config directory; they share the rules directory.
    const cdir = join(dir, `collector${i}`);
    mkdirSync(cdir);
    const c = await startCollector(esUrl, { dir: cdir, token, extra, rulesDir, env: opts.env });
    collectors.push(c);
    running.push(c);
  }
  const urls = collectors.map((c) => `    - ${c.url}`).join('\n');
  const agent = startAgent(
    dir,
    `id: agent-${ns}\nstate_dir: ./state\ncollector:\n  urls:\n${urls}\n  token: ${token}\nbatch:\n  flush_interval: 100ms\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`,
  );
  running.push(agent);
  return { ns, dir, collectors, agent, log: new LogWriter(join(dir, 'logs', 'pos.log')), rules: rulesDir };
}

export async function api(c: CollectorHandle, path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${c.url}/api${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.token === '' ? {} : { authorization: `Bearer ${init.token ?? ADMIN}` }) },
  });
  return { status: res.status, body: await res.json() };
}

export async function incidentsOf(es: Client, ns: string, query: object = { match_all: {} }): Promise<any[]> {
  await es.indices.refresh({ index: 'stacklens-incidents', ignore_unavailable: true });
  const res = await es.search({ index: 'stacklens-incidents', size: 100, query: { bool: { filter: [{ wildcard: { index: `*-${ns}` } }, query] } }, ignore_unavailable: true });
  return res.hits.hits.map((h) => h._source);
}

export const missingPrice = (store: string, product?: number) => posErrorLine('missing-price', { store, product, rand: rng(Math.floor(Math.random() * 1e9)) });

/**
 * The template id collectors give a message, known in advance: the hash of its dataset and of
 * the first text of its template — the message's own masked text when the first message of
 * its kind had the same form (every POS "Product #N has no price" has).
 */
export function templateIdOf(dataset: string, message: string): string {
  return new TemplateCatalog(undefined).assignNow(dataset, message).id;
}
