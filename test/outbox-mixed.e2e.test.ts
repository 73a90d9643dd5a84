// Collectors configured differently on one Elasticsearch (issue #13: a collector without
// integrations swallowed the others' tickets). Through the CLIs: one collector with Jira,
// an LLM and Slack (the protocol fakes), one started from a collector.yaml without
// integrations, one agent shipping to the latter — which opens every incident. Every incident
// gets one ticket, an LLM triage and one Slack alert, all run by the collector that has them.
// With that collector down, a new incident's tasks wait — pending, counted, listed with what
// they wait for — and run when it is back. An LLM that times out ends in runbook triage that
// says so, and the ticket is filed anyway.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, LogWriter, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, VIEWER, api, incidentsOf, missingPrice, missingPriceAnyRule, testSecret } from './stack.js';
import { FakeJira } from './fakes/jira-server.js';
import { FakeOpenAi } from './fakes/openai-server.js';
import { FakeSlack } from './fakes/slack-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const JIRA_TOKEN = testSecret('jira');
const OPENAI_KEY = testSecret('sk-test');
const SLACK_TOKEN = testSecret('xoxb');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const slack = new FakeSlack(SLACK_TOKEN);
const env = { JIRA_API_TOKEN: JIRA_TOKEN, OPENAI_API_KEY: OPENAI_KEY, SLACK_BOT_TOKEN: SLACK_TOKEN };

beforeAll(async () => {
  await Promise.all([jira.start(), llm.start(), slack.start()]);
});
afterAll(async () => {
  await Promise.all([jira.stop(), llm.stop(), slack.stop()]);
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  llm.delayMs = 0;
});

const integrations = (llmTimeout = '5s') => `integrations:
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
  openai:
    base_url: ${llm.url}
    api_key: \${OPENAI_API_KEY}
    timeout: ${llmTimeout}
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    api_url: ${slack.url}/api/
    channel: "#oncall"
    index_messages: false
`;

/**
 * Collectors sharing one rules directory (each with its own collector.yaml), and an agent
 * shipping to the first. The rule's scheduled run is hourly, so the collector the agent ships
 * to evaluates it (on the events it indexes) and opens every incident.
 */
async function mixedStack(configs: string[], notify = '[jira, slack]') {
  const ns = uniqueNamespace();
  const dir = tempDir();
  mkdirSync(join(dir, 'logs'));
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'r.yml'), missingPriceAnyRule('mixed-missing-price', `labels: { error_type: MISSING_PRICE }\nnotify: ${notify}\nrun_every: 1h`).replaceAll('$NS', ns));
  const token = `agent-token-${ns}`;
  const common = `detection:\n  schedule: 500ms\napi:\n  admin_tokens: ["${ADMIN}"]\n  viewer_tokens: ["${VIEWER}"]\noutbox:\n  retry_budget: 3m\n`;
  const collectors: CollectorHandle[] = [];
  for (const [i, extra] of configs.entries()) {
    const cdir = join(dir, `collector${i}`);
    mkdirSync(cdir);
    const c = await startCollector(esUrl, { dir: cdir, token, extra: common + extra, rulesDir: rules, env });
    collectors.push(c);
    running.push(c);
  }
  const agent = startAgent(dir, `id: agent-${ns}\nstate_dir: ./state\ncollector:\n  url: ${collectors[0].url}\n  token: ${token}\nbatch:\n  flush_interval: 100ms\n  max_events: 2\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`);
  running.push(agent);
  return { ns, collectors, log: new LogWriter(join(dir, 'logs', 'pos.log')) };
}

const ticketsFor = (store: string) => jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`));
const alertsFor = (id: string) => slack.posts('C0ONCALL01').filter((m) => m.metadata?.event_payload?.incident_id === id);
const outbox = async (c: CollectorHandle, query = '') => (await api(c, `/outbox?size=200${query}`, { token: VIEWER })).body;

/** Every outbox task of these incidents, from the index. */
async function tasksOf(ids: string[]): Promise<any[]> {
  await es.indices.refresh({ index: 'stacklens-outbox' });
  const res = await es.search({ index: 'stacklens-outbox', size: 1000, query: { terms: { incident_id: ids } } });
  return res.hits.hits.map((h) => h._source);
}

const byActionOf = (tasks: any[], action: string) => tasks.filter((t) => t.action === action);

async function metric(c: CollectorHandle, series: string): Promise<number> {
  const text = await (await fetch(`${c.url}/metrics`)).text();
  const m = new RegExp(`^${series.replace(/[{}"]/g, (ch) => `\\${ch}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

describe('collectors configured differently share the outbox', () => {
  it('the collector without integrations claims nothing; every incident gets one ticket, an LLM triage and one alert; with the integrated collector down, tasks wait visibly and run when it is back', async () => {
    // The agent ships to B (no integrations): B opens every incident and queues its tasks.
    const s = await mixedStack(['', integrations()]);
    const [bare, full] = s.collectors;
    const fullId: string = (await outbox(full)).collector.id;
    const bareId: string = (await outbox(bare)).collector.id;
    const fullCaps = ['jira', 'llm', 'slack'];
    expect((await outbox(full)).collector.capabilities).toEqual(fullCaps);
    expect((await outbox(bare)).collector.capabilities).toEqual([]);
    // Each knows the other is running, and what it can run.
    await waitFor('the bare collector seeing the integrated one', async () => (await outbox(bare)).collectors.some((c: any) => c.id === fullId && c.live && c.capabilities.includes('llm')), 20_000);

    // A burst: 6 stores, 3 lines each, in small batches.
    const stores = Array.from({ length: 6 }, (_, i) => `STORE_${s.ns}_${i}`);
    s.log.append(stores.flatMap((store) => [missingPrice(store, 999), missingPrice(store), missingPrice(store)]));
    const incs = await waitFor('6 incidents, each triaged by the LLM and ticketed', async () => {
      const all = await incidentsOf(es, s.ns);
      return all.length === 6 && all.every((i) => i.ticket && i.triage?.source === 'llm') ? all : undefined;
    }, 60_000, 300).catch(async (err) => {
      throw new Error(`${err.message}\nincidents: ${JSON.stringify((await incidentsOf(es, s.ns)).map((i) => [i.id, i.timeline]))}\noutbox: ${JSON.stringify((await outbox(bare)).tasks.slice(0, 20))}`);
    });
    for (const store of stores) expect(ticketsFor(store)).toHaveLength(1);
    await waitFor('one Slack alert per incident', async () => incs.every((i) => alertsFor(i.id).length >= 1), 30_000);
    for (const i of incs) {
      expect(alertsFor(i.id)).toHaveLength(1);
      expect(i.triage.note).toBeUndefined();
      expect(i.timeline.map((t: any) => t.stage)).toEqual(expect.arrayContaining(['triage_pending', 'triage_completed', 'ticket_pending', 'ticket_created']));
      expect(i.timeline.map((t: any) => t.stage)).not.toContain('triage_failed');
    }

    // From the outbox index: the collector without integrations queued tasks, and claimed none.
    const tasks = await tasksOf(incs.map((i) => i.id));
    expect(byActionOf(tasks, 'triage').map((t) => t.queued_by)).toEqual(Array(6).fill(bareId));
    for (const t of tasks.filter((t) => t.status !== 'pending' || t.claimants)) {
      expect({ id: t.id, claimants: t.claimants }).toEqual({ id: t.id, claimants: [fullId] });
      expect(t.claimed_by).toBe(fullId);
    }
    const byAction = (a: string) => byActionOf(tasks, a);
    expect(byAction('ticket')).toHaveLength(6);
    for (const t of [...byAction('ticket'), ...byAction('triage')]) expect(t.status).toBe('done');
    // What each task needs, and its rule: only collectors running the rule claim it while one runs.
    for (const t of byAction('triage')) expect(t.needs).toEqual(['llm']);
    for (const t of byAction('ticket')) expect(t.needs).toEqual(['jira']);
    for (const t of byAction('chat_post')) expect(t.needs).toEqual(['slack']);
    for (const t of tasks) expect(t.rule).toBe(`mixed-missing-price@logs-pos-${s.ns}`);
    expect(await metric(bare, 'stacklens_outbox_tasks_total{action="triage",result="done"}')).toBe(0);
    expect(await metric(bare, 'stacklens_outbox_tasks_total{action="ticket",result="done"}')).toBe(0);
    expect(await metric(full, 'stacklens_outbox_tasks_total{action="ticket",result="done"}')).toBeGreaterThanOrEqual(6);

    // The integrated collector goes away (a rolling change: stopped, to be started again). A new incident opens on B.
    await full.stop('SIGTERM');
    await waitFor('the bare collector seeing it stopped', async () => (await outbox(bare)).collectors.find((c: any) => c.id === fullId)?.live === false, 20_000);
    const late = `STORE_${s.ns}_late`;
    s.log.append([missingPrice(late, 999)]);
    const lateInc = await waitFor('the late incident', async () => (await incidentsOf(es, s.ns)).find((i) => i.group_key.endsWith(late)), 30_000);
    // Its triage waits for a collector with an LLM: pending, counted, listed with what it waits for — never done.
    const waiting = await waitFor('the triage listed as waiting for an LLM', async () => {
      const body = await outbox(bare, `&status=pending&incident=${lateInc.id}`);
      return body.tasks.find((t: any) => t.action === 'triage' && t.waiting_for.length > 0);
    }, 40_000);
    expect(waiting).toMatchObject({ status: 'pending', needs: ['llm'], waiting_for: ['llm'], attempts: 0, queued_by: bareId });
    expect(waiting.age_seconds).toBeGreaterThanOrEqual(0);
    await waitFor('the unclaimable gauge', async () => (await metric(bare, 'stacklens_outbox_unclaimable_tasks{action="triage"}')) >= 1, 20_000);
    expect(await metric(bare, 'stacklens_outbox_oldest_pending_seconds{action="triage"}')).toBeGreaterThan(0);
    expect((await outbox(bare)).collectors.find((c: any) => c.id === fullId)).toMatchObject({ live: false, stopped_at: expect.any(String), capabilities: fullCaps });
    // The Slack alert waits too (routed by a collector that has Slack).
    expect((await outbox(bare, `&status=pending&action=chat_post&incident=${lateInc.id}`)).tasks).toEqual([expect.objectContaining({ needs: ['slack'], waiting_for: ['slack'] })]);
    const [lateNow] = await incidentsOf(es, s.ns, { ids: { values: [lateInc.id] } });
    expect(lateNow.triage).toBeUndefined();
    expect(lateNow.timeline.find((t: any) => t.stage === 'triage_pending').note).toBe('waiting for a collector with llm (none running)');
    expect(ticketsFor(late)).toHaveLength(0);

    // Back: the waiting tasks run — an LLM triage, one ticket, one alert.
    await full.restart();
    const fullId2: string = (await outbox(full)).collector.id;
    await waitFor('the late ticket', async () => ticketsFor(late).length === 1, 60_000, 250);
    const done = await waitFor('the late incident ticketed and triaged', async () => (await incidentsOf(es, s.ns, { ids: { values: [lateInc.id] } })).find((i) => i.ticket && i.triage), 30_000);
    expect(done.triage.source).toBe('llm');
    await waitFor('the late alert', async () => alertsFor(lateInc.id).length === 1, 30_000);
    const lateTasks = await waitFor('the late tasks done', async () => {
      const t = await tasksOf([lateInc.id]);
      return ['triage', 'ticket', 'chat_post'].every((a) => t.some((x) => x.action === a && x.status === 'done')) ? t : undefined;
    }, 30_000);
    for (const t of lateTasks.filter((x) => x.claimants)) expect(t.claimants).toEqual([fullId2]);
    await waitFor('nothing of the late incident waiting', async () => (await outbox(bare, `&status=pending,running&incident=${lateInc.id}`)).total === 0, 30_000);
    expect(ticketsFor(late)).toHaveLength(1);
    for (const store of stores) expect(ticketsFor(store)).toHaveLength(1);
  });

  it('an LLM that times out: runbook triage saying so, and the ticket filed anyway', async () => {
    llm.delayMs = 3000;
    const s = await mixedStack([integrations('1s')], '[jira]');
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store, 999)]);
    const [ticket] = await waitFor('the ticket', async () => (ticketsFor(store).length ? ticketsFor(store) : undefined), 60_000, 200);
    expect(JSON.stringify(ticket.fields.description)).toContain('Runbook triage (LLM timed out after 1s (3 attempts); runbook and similar past incidents only)');
    const [inc] = await waitFor('the ticket recorded', async () => {
      const all = await incidentsOf(es, s.ns);
      return all[0]?.ticket ? all : undefined;
    }, 20_000);
    expect(inc.triage).toMatchObject({ source: 'runbook', note: 'LLM timed out after 1s (3 attempts); runbook and similar past incidents only' });
    const stages = inc.timeline.map((t: any) => t.stage);
    expect(stages).toEqual(['detected', 'triage_pending', 'triage_failed', 'ticket_pending', 'ticket_created']);
    expect(inc.timeline[2].note).toMatch(/^LLM timed out after 1s/);
    expect(llm.prompts.filter((p) => p.includes(store))).toHaveLength(3); // LLM_ATTEMPTS
    const [triage] = (await tasksOf([inc.id])).filter((t) => t.action === 'triage');
    expect(triage).toMatchObject({ status: 'done', attempts: 3, result: { source: 'runbook' } });
  });
});
