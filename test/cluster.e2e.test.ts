// Beyond one machine: a real three-node Elasticsearch cluster started with the CLI
// (`stacklens es start --nodes 3`), collectors that use all its nodes (elasticsearch.urls),
// and the losses a cluster exists for — the node holding the primaries SIGKILLed under a
// steady 2,000 lines/s, and one of three collectors SIGKILLed during a burst of errors.
// Every line once; every incident, ticket and chat post once.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { posTrafficLine, rng } from '@stacklens/demo';
import { acknowledged, count, esClient, expectExactlyOnce, sleep, tempDir, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { incidentsOf, missingPrice, missingPriceAnyRule, startStack } from './stack.js';
import { FakeJira } from './fakes/jira-server.js';
import { FakeSlack } from './fakes/slack-server.js';

const PORT = 9600;
const running: (AgentHandle | CollectorHandle)[] = [];
const JIRA_TOKEN = ['jira', 'token', Math.random().toString(36).slice(2)].join('-');
const SLACK_TOKEN = ['xoxb', 'test', Math.random().toString(36).slice(2)].join('-');
const SLACK_SECRET = ['slack', 'secret', Math.random().toString(36).slice(2)].join('-');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const slack = new FakeSlack(SLACK_TOKEN);

interface NodeStatus {
  name: string;
  url: string;
  pid?: number;
  running: boolean;
}

/** The stacklens CLI, as a user runs it. */
function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [join(REPO_ROOT, 'cli', 'dist', 'cli.js'), ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

function clusterStatus(): { nodes: NodeStatus[]; health?: { status: string; number_of_nodes: number } } {
  const res = cli('es', 'status', '--port', String(PORT), '--json');
  return JSON.parse(res.stdout);
}

let urls: string[] = [];
const es = () => esClient(urls[0]);

beforeAll(async () => {
  const started = cli('es', 'start', '--nodes', '3', '--port', String(PORT));
  expect(started.status, started.stderr).toBe(0);
  expect(started.stdout).toContain('health green, 3 of 3 nodes');
  urls = clusterStatus().nodes.map((n) => n.url);
  expect(urls).toHaveLength(3);
  await jira.start();
  await slack.start();
}, 300_000);

afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

afterAll(async () => {
  await jira.stop();
  await slack.stop();
  const stopped = cli('es', 'stop', '--port', String(PORT));
  expect(stopped.stdout).toMatch(/stopped stacklens-es-0/);
  expect(clusterStatus().nodes.every((n) => !n.running)).toBe(true);
  rmSync(join(REPO_ROOT, '.stacklens', 'es', String(PORT)), { recursive: true, force: true });
}, 120_000);

/** After the fakes started (their URLs). */
const integrations = () => `integrations:
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
    issue_type: Bug
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    signing_secret: \${SLACK_SIGNING_SECRET}
    api_url: ${slack.url}/api/
    channel: "#oncall"
outbox:
  retry_budget: 5m
`;
const env = { JIRA_API_TOKEN: JIRA_TOKEN, SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SLACK_SECRET };
const rule = missingPriceAnyRule('pos-missing-price', 'notify: [jira, slack]');

/**
 * Each store: one incident, one Jira ticket, one Slack alert (top-level post in #oncall).
 * Waits up to 4 minutes: an outbox task whose completion could not be recorded while a node was
 * gone runs again only when its 60 s lease ends, then after its backoff (up to 60 s).
 */
async function expectOncePerStore(ns: string, stores: string[], logs: () => string): Promise<void> {
  const incidentOf = async (store: string) => (await incidentsOf(es(), ns)).filter((i) => JSON.stringify(i.group ?? i).includes(store));
  const ticketsOf = (store: string) => jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`));
  const alertsOf = (id: string) => slack.posts().filter((m) => m.metadata?.event_payload?.incident_id === id);
  const missing = async () => {
    const out: string[] = [];
    for (const store of stores) {
      const [inc] = await incidentOf(store);
      if (!inc) out.push(`${store}: no incident`);
      else if (ticketsOf(store).length === 0 || alertsOf(inc.id).length === 0) {
        await es().indices.refresh({ index: 'stacklens-outbox' });
        const tasks = (await es().search({ index: 'stacklens-outbox', size: 20, query: { term: { incident_id: inc.id } } })).hits.hits.map((h: any) => `${h._source.action}:${h._source.status}(${h._source.attempts}) ${h._source.last_error ?? ''}`);
        out.push(`${store}: ticket ${ticketsOf(store).length}, alert ${alertsOf(inc.id).length}; outbox ${tasks.join(', ')}`);
      }
    }
    return out;
  };
  await waitFor('an incident, a ticket and a chat alert per store', async () => (await missing()).length === 0, 240_000, 1000).catch(async (err: Error) => {
    throw new Error(`${err.message}:\n${(await missing()).join('\n')}\ncollector log:\n${logs().split('\n').slice(-40).join('\n')}`);
  });
  await sleep(3000); // a second ticket or post, if one were coming, comes within the same outbox pass
  for (const store of stores) {
    const incidents = await incidentOf(store);
    expect(incidents, store).toHaveLength(1);
    expect(ticketsOf(store), store).toHaveLength(1);
    expect(alertsOf(incidents[0].id), store).toHaveLength(1);
  }
}

describe('a three-node Elasticsearch cluster', () => {
  it('loses and doubles nothing when the node holding the primaries is SIGKILLed under 2,000 lines/s and restarted; /readyz and metrics show the degraded period', async () => {
    const s = await startStack(urls, running, { 'missing-price.yml': rule }, { extra: integrations(), env });
    const collector = s.collectors[0];
    const stream = `logs-pos-${s.ns}`;
    const stores = Array.from({ length: 10 }, (_, i) => `STORE_N${i}_${s.ns}`);
    const rand = rng(11);
    let writing = true;
    let tick = 0;
    const writer = (async () => {
      // 200 lines every 100 ms; now and then a MISSING_PRICE line of one of the stores.
      while (writing) {
        const lines = Array.from({ length: 200 }, () => posTrafficLine(rand, 0, new Date()));
        if (tick % 5 === 0) lines[0] = missingPrice(stores[(tick / 5) % stores.length]);
        s.log.append(lines);
        tick++;
        await sleep(100);
      }
    })();

    // What /readyz and /metrics say, every 250 ms, all along.
    const seen = new Set<string>();
    let degradedMetrics = '';
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await fetch(`${collector.url}/readyz`).then((res) => res.json()).catch(() => ({ status: 'unanswered' }));
        seen.add(r.status);
        if (r.status === 'degraded' && !degradedMetrics) degradedMetrics = await (await fetch(`${collector.url}/metrics`)).text();
        await sleep(250);
      }
    })();

    await waitFor('the first documents', async () => (await count(es(), stream)) > 4000, 60_000, 250);
    const shards = (await es().cat.shards({ index: stream, format: 'json' })) as unknown as { prirep: string; node: string; state: string }[];
    const primaryNode = shards.find((x) => x.prirep === 'p' && x.state === 'STARTED')!.node;
    const victim = clusterStatus().nodes.find((n) => n.name === primaryNode)!;
    expect(victim.pid).toBeGreaterThan(0);
    process.kill(victim.pid!, 'SIGKILL');
    await waitFor('the collector to report degraded', async () => seen.has('degraded'), 60_000, 250);
    // Fixed waits are right here: they are the length of the outage and of the load after it.
    await sleep(5000);
    const restarted = cli('es', 'start', '--port', String(PORT));
    expect(restarted.status, restarted.stderr).toBe(0);
    expect(restarted.stdout).toContain(`started ${victim.name}`);
    await sleep(1000);
    writing = false;
    await writer;
    await waitFor('the log acknowledged to its end', async () => acknowledged(s.dir, [s.log.path]), 180_000, 500);
    await expectExactlyOnce(es(), stream, [s.log]);
    await expectOncePerStore(s.ns, stores, () => collector.proc.output);
    let last: unknown;
    await waitFor('the collector ready again', async () => {
      last = await fetch(`${collector.url}/readyz`).then((r) => r.json());
      return (last as { status: string }).status === 'ready';
    }, 60_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}; /readyz answers ${JSON.stringify(last)}`);
    });
    watching = false;
    await watcher;

    expect(s.log.lines.length).toBeGreaterThan(20_000);
    expect(degradedMetrics).toMatch(/stacklens_elasticsearch_cluster_health\{status="(yellow|red)"\} 1|stacklens_elasticsearch_connections\{state="dead"\} [1-9]/);
    expect(seen.has('not ready')).toBe(false); // two of three nodes keep taking events
  }, 420_000);

  it('three collectors share the load; one SIGKILLed and restarted during a burst of 100 errors in 10 stores: 10 incidents, 10 tickets, 10 chat posts', async () => {
    const s = await startStack(urls, running, { 'missing-price.yml': rule }, { collectors: 3, extra: integrations(), env });
    const stores = Array.from({ length: 10 }, (_, i) => `STORE_C${i}_${s.ns}`);
    const received = async () => Promise.all(s.collectors.map(async (c) => Number(/^stacklens_collector_events_received_total (\d+)/m.exec(await (await fetch(`${c.url}/metrics`)).text())?.[1] ?? 0)));
    for (let round = 0; round < 10; round++) {
      s.log.append(stores.map((store) => missingPrice(store)));
      if (round === 3) await s.collectors[1].stop('SIGKILL');
      if (round === 7) await s.collectors[1].restart();
      await sleep(200);
    }
    await waitFor('the log acknowledged to its end', async () => acknowledged(s.dir, [s.log.path]), 120_000, 250);
    await expectExactlyOnce(es(), `logs-pos-${s.ns}`, [s.log]);
    await expectOncePerStore(s.ns, stores, () => s.collectors.map((c) => c.proc.output).join('\n'));
    // The agent spread its batches: more than one collector took events.
    const perCollector = await received();
    expect(perCollector.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('collector --check --connect names each configured node, and the one that does not answer', () => {
    const dir = tempDir();
    const config = (nodes: string[]) => {
      writeFileSync(join(dir, 'collector.yaml'), `elasticsearch:\n  urls: [${nodes.join(', ')}]\nagent_tokens: ["check-token-0123456789abcdef"]\nrules_dir: ./rules\n`);
      mkdirSync(join(dir, 'rules'), { recursive: true });
      return spawnSync(process.execPath, [join(REPO_ROOT, 'collector', 'dist', 'cli.js'), '--config', join(dir, 'collector.yaml'), '--check', '--connect'], { encoding: 'utf8' });
    };
    const good = config(urls);
    expect(good.status, good.stdout + good.stderr).toBe(0);
    for (const url of urls) expect(good.stdout).toContain(`Elasticsearch node ${url}: reachable (cluster stacklens-${PORT}, 3 nodes)`);
    const bad = config([...urls, 'http://127.0.0.1:1']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('Elasticsearch node http://127.0.0.1:1: not reachable');
    expect(bad.stdout).toContain(`Elasticsearch node ${urls[0]}: reachable`);
    // Nodes of two clusters in one list: writes would be spread over both.
    const mixed = config([urls[0], inject('esUrl')]);
    expect(mixed.status).toBe(1);
    expect(mixed.stdout).toMatch(/these nodes belong to 2 different clusters/);
  });
});
