// From a POS error to a Jira ticket with AI triage, through the CLIs: the collector talks to
// local servers speaking Jira REST v3 and OpenAI chat completions (test/fakes), through the
// real jira.js and openai clients.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, sleep, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { incidentFingerprint } from '@stacklens/detection';
import { ADMIN, VIEWER, api, incidentsOf, missingPrice, missingPriceAnyRule, startStack, templateIdOf } from './stack.js';
import { FakeJira, checkAdf } from './fakes/jira-server.js';
import { FakeOpenAi } from './fakes/openai-server.js';
import { FakeXero } from './fakes/xero-server.js';
import { posErrorLine, rng } from '@stacklens/demo';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
// Built at run time so no credential-shaped literal sits in the repository.
const JIRA_TOKEN = ['jira', 'token', Math.random().toString(36).slice(2)].join('-');
const OPENAI_KEY = ['sk', 'test', Math.random().toString(36).slice(2), 'abcdefghijkl'].join('-');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const XERO_SECRET = ['xero', 'secret', Math.random().toString(36).slice(2)].join('-');
const xero = new FakeXero('stacklens-client', XERO_SECRET, 'tenant-7');

beforeAll(async () => {
  await jira.start();
  await llm.start();
  await xero.start();
});
afterAll(async () => {
  await jira.stop();
  await llm.stop();
  await xero.stop();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  jira.mode = 'up';
  llm.mode = 'ok';
  xero.mode = 'up';
});

const rule = missingPriceAnyRule('pos-missing-price', 'labels: { error_type: MISSING_PRICE }\nnotify: [jira, slack]');

const integrations = (withLlm = true, withXero = false) => `integrations:
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
    issue_type: Bug
    kibana_url: http://kibana.example:5601
    grafana_url: http://grafana.example:3000
    comment_every: 1h
    resolve_transition: Done
${withLlm ? `  openai:\n    base_url: ${llm.url}\n    api_key: \${OPENAI_API_KEY}\n    model: gpt-4o-mini\n    timeout: 5s\n` : ''}${withXero ? `  xero:\n    client_id: stacklens-client\n    client_secret: \${XERO_CLIENT_SECRET}\n    tenant_id: tenant-7\n    base_url: ${xero.url}/api.xro/2.0\n    token_url: ${xero.url}/connect/token\n` : ''}outbox:
  retry_budget: 2m
`;

async function stack(withLlm = true, withXero = false, rules: Record<string, string> = { 'missing-price.yml': rule }) {
  return startStack(esUrl, running, rules, { extra: integrations(withLlm, withXero), env: { JIRA_API_TOKEN: JIRA_TOKEN, OPENAI_API_KEY: OPENAI_KEY, XERO_CLIENT_SECRET: XERO_SECRET } });
}

const ticketsFor = (store: string) => jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`));

/** An incident's outbox tasks, but its chat posts: no collector here has Slack, so they wait. */
async function outboxTasks(incident: string): Promise<any[]> {
  await es.indices.refresh({ index: 'stacklens-outbox' });
  const res: any = await es.search({ index: 'stacklens-outbox', size: 100, query: { bool: { filter: [{ term: { incident_id: incident } }], must_not: [{ term: { action: 'chat_post' } }] } } });
  return res.hits.hits.map((h: any) => h._source);
}

describe('triage and Jira tickets', () => {
  it('a MISSING_PRICE line becomes one ticket with the AI analysis; a burst of 1,000 more adds none', async () => {
    const s = await stack();
    const store = `STORE_${s.ns}`;
    const jiraFrom = jira.requests.length;
    // How fast is measured by the benchmark (npm run bench -- --only tickets), not here.
    s.log.append([missingPrice(store, 999)]);
    const [ticket] = await waitFor('the ticket', async () => (ticketsFor(store).length ? ticketsFor(store) : undefined), 30_000, 100);

    expect(ticket.fields.summary).toBe(`[CRITICAL] MISSING_PRICE: Product #999 has no price (${store})`);
    expect(ticket.fields.project).toEqual({ key: 'OPS' });
    expect(ticket.fields.issuetype).toEqual({ name: 'Bug' });
    expect(ticket.fields.priority).toEqual({ name: 'Highest' });
    const [inc] = await incidentsOf(es, s.ns);
    expect(ticket.fields.labels).toEqual(['stacklens', 'auto-created', 'MISSING_PRICE', `stacklens-${inc.fingerprint.slice(0, 16)}`]);
    expect(checkAdf(ticket.fields.description)).toBeUndefined();
    const text = JSON.stringify(ticket.fields.description);
    for (const part of ['Product #999 has no price', store, 'Product 999 has no price in the POS master data', 'confidence 86%', 'Set the price of product 999', 'codeBlock', "Set the product's price in the master data", 'kibana.example', 'grafana.example']) {
      expect(text).toContain(part);
    }
    const recorded = await waitFor('the ticket recorded on the incident', async () => {
      const [i] = await incidentsOf(es, s.ns);
      return i?.ticket ? i : undefined;
    }, 20_000);
    expect(recorded.ticket.key).toBe(ticket.key);
    expect(recorded.triage).toMatchObject({ source: 'llm', model: 'gpt-4o-mini', tokens: { prompt: 420, completion: 96 } });
    expect(recorded.timeline.map((t: any) => t.stage)).toEqual(['detected', 'triage_pending', 'triage_completed', 'ticket_pending', 'ticket_created']);

    s.log.append(Array.from({ length: 1000 }, () => missingPrice(store)));
    await waitFor('the burst counted', async () => (await incidentsOf(es, s.ns))[0]?.count === 1001, 60_000, 500);

    // What happened is in the collector's metrics.
    const scrape = async () => (await fetch(`${s.collectors[0].url}/metrics`)).text();
    let metrics = await scrape();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
    // Triaged when opened, and again as it grew past 10, 100 and 1,000 events (counts are
    // written every few seconds, so one jump may cross two of those at once).
    await waitFor('the re-triage as it grew', async () => {
      metrics = await scrape();
      return value('stacklens_triage_total{source="llm",result="completed"}') >= 2;
    }, 20_000);
    // Everything the burst queued has run: the outbox holds nothing pending or running for it.
    await waitFor('the outbox done with the incident', async () => {
      const tasks = await outboxTasks(inc.id);
      return tasks.length >= 2 && tasks.every((t: any) => t.status === 'done' || t.status === 'failed');
    }, 30_000);
    expect(ticketsFor(store)).toHaveLength(1);
    expect(await incidentsOf(es, s.ns)).toHaveLength(1);
    metrics = await scrape();
    const triages = value('stacklens_triage_total{source="llm",result="completed"}');
    expect(triages).toBeLessThanOrEqual(4);
    expect(value('stacklens_triage_tokens_total{kind="prompt"}')).toBe(triages * 420);
    expect(value('stacklens_triage_tokens_total{kind="completion"}')).toBe(triages * 96);
    // Every Jira request the fake answered with success is counted, once: the search, the
    // creation, and the comments the burst may have added.
    const jiraOk = jira.requests.slice(jiraFrom).filter((r) => r.status < 300);
    expect(jiraOk.slice(0, 2).map((r) => r.method)).toEqual(['GET', 'POST']); // search (JQL), create
    expect(value('stacklens_external_requests_total{service="jira",result="ok"}')).toBe(jiraOk.length);
    expect(value('stacklens_outbox_tasks_total{action="ticket",result="done"}')).toBe(1);
    expect(value('stacklens_incidents_opened_total{severity="critical"}')).toBe(1);
    expect(value('stacklens_collector_events_indexed_total')).toBe(1001);
    expect(metrics).toMatch(/^stacklens_rule_evaluation_duration_seconds_bucket\{le="0.1",trigger="event"\} \d+$/m);
    expect(metrics).toMatch(new RegExp(`^stacklens_triage_duration_seconds_count ${triages}$`, 'm'));
  });

  it('Jira down, then rate-limited, then back: exactly one ticket per incident', async () => {
    jira.mode = 'down';
    const s = await stack();
    const stores = [1, 2, 3].map((i) => `STORE_${s.ns}_${i}`);
    s.log.append(stores.map((store) => missingPrice(store)));
    await waitFor('three incidents waiting for their tickets', async () => {
      const incs = await incidentsOf(es, s.ns);
      return incs.length === 3 && incs.every((i) => i.timeline.some((t: any) => t.stage === 'ticket_pending'));
    }, 30_000);
    const before = jira.requests.length;
    await waitFor('Jira answering 503', async () => jira.requests.slice(before).some((r) => r.status === 503), 20_000);
    jira.mode = 'rate-limited';
    const limited = jira.requests.length;
    await waitFor('Jira answering 429', async () => jira.requests.slice(limited).some((r) => r.status === 429), 30_000);
    jira.mode = 'up';
    await waitFor('three tickets', async () => stores.every((st) => ticketsFor(st).length === 1), 60_000, 250);
    // The outbox retried each ticket task until it went through; once all are done, no
    // retry is left to file a second ticket.
    const incs = await incidentsOf(es, s.ns);
    const tasks = await waitFor('the three ticket tasks done', async () => {
      await es.indices.refresh({ index: 'stacklens-outbox' });
      const res = await es.mget({ index: 'stacklens-outbox', ids: incs.map((i) => `ticket:${i.id}`) });
      return (res.docs as any[]).every((d) => d._source?.status === 'done') ? res : undefined;
    }, 30_000);
    for (const st of stores) expect(ticketsFor(st)).toHaveLength(1);
    expect(Math.max(...(tasks.docs as any[]).map((d) => d._source.attempts))).toBeGreaterThan(1);
    // … and the API lists them.
    const shown = await api(s.collectors[0], `/outbox?status=done&incident=${incs[0].id}`, { token: VIEWER });
    expect(shown.body.tasks.map((t: any) => t.action).sort()).toEqual(['ticket', 'triage']);
  });

  it('garbage from the LLM: triage failed with the reason, the ticket still filed with runbook triage; no secret in logs or API answers', async () => {
    llm.mode = 'garbage';
    const s = await stack();
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store)]);
    const [ticket] = await waitFor('the ticket', async () => (ticketsFor(store).length ? ticketsFor(store) : undefined), 30_000, 100);
    const text = JSON.stringify(ticket.fields.description);
    expect(text).toContain('Runbook triage (LLM answer is not JSON');
    expect(text).toContain("Set the product's price in the master data");
    const [inc] = await incidentsOf(es, s.ns);
    const failed = inc.timeline.find((t: any) => t.stage === 'triage_failed');
    expect(failed.note).toMatch(/^LLM answer is not JSON/);

    const c = s.collectors[0];
    const answers = [await api(c, '/incidents', { token: VIEWER }), await api(c, `/incidents/${inc.id}`, { token: ADMIN }), await api(c, '/rules', { token: VIEWER })];
    const everything = JSON.stringify(answers) + c.proc.output;
    expect(everything).not.toContain(JIRA_TOKEN);
    expect(everything).not.toContain(OPENAI_KEY);
  });

  it('a ticket left by a crash (created, not recorded) is found by its fingerprint label, not doubled; recurrences comment; resolve transitions it', async () => {
    const s = await stack(false);
    const store = `STORE_${s.ns}`;
    const fp = incidentFingerprint('pos-missing-price', `logs-pos-${s.ns}`, { 'pos.store_id': store }, templateIdOf('pos', 'Product #999 has no price'));
    const seeded = jira.seed({ project: { key: 'OPS' }, summary: `[CRITICAL] MISSING_PRICE: Product #999 has no price (${store})`, labels: ['stacklens', `stacklens-${fp.slice(0, 16)}`] });
    s.log.append([missingPrice(store)]);
    const inc = await waitFor('the ticket recorded', async () => {
      const [i] = await incidentsOf(es, s.ns);
      return i?.ticket ? i : undefined;
    }, 30_000, 200);
    expect(inc.ticket).toMatchObject({ key: seeded, found: true });
    expect(ticketsFor(store)).toHaveLength(1);

    s.log.append([missingPrice(store), missingPrice(store)]);
    const issue = jira.issues.find((i) => i.key === seeded)!;
    await waitFor('a comment with the new count', async () => issue.comments.length === 1, 30_000, 200);
    expect(JSON.stringify(issue.comments[0])).toMatch(/the incident recurred — \d+ event\(s\) in total/);
    // (A count is written at most every 3 s: past that, the fourth line's is written at once
    // rather than by the next scheduled run.)
    await sleep(3000);
    s.log.append([missingPrice(store)]);
    // The fourth line counted, and whatever it queued has run: still one comment (throttled:
    // one per comment_every, 1h).
    await waitFor('the fourth line counted and the outbox done with it', async () => {
      const [i] = await incidentsOf(es, s.ns);
      if (i?.count !== 4) return false;
      return (await outboxTasks(inc.id)).every((t: any) => t.status === 'done' || t.status === 'failed');
    }, 30_000, 250);
    expect(issue.comments).toHaveLength(1);

    const c = s.collectors[0];
    expect((await api(c, `/incidents/${inc.id}/resolve`, { method: 'POST', body: JSON.stringify({ by: 'ana' }) })).status).toBe(200);
    await waitFor('the ticket transitioned to Done', async () => issue.fields.status.name === 'Done', 30_000, 200);
  });

  it('POST /api/incidents/:id/ticket files a ticket on demand for a rule that does not notify Jira', async () => {
    const s = await startStack(esUrl, running, { 'quiet.yml': rule.replace('notify: [jira, slack]', 'notify: []').replace('name: pos-missing-price', 'name: pos-missing-price-quiet') }, { extra: integrations(false), env: { JIRA_API_TOKEN: JIRA_TOKEN } });
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store)]);
    const [inc] = await waitFor('the incident', async () => {
      const found = await incidentsOf(es, s.ns);
      return found.length ? found : undefined;
    }, 30_000);
    await sleep(1500);
    expect(ticketsFor(store)).toHaveLength(0);
    const c = s.collectors[0];
    expect((await api(c, `/incidents/${inc.id}/ticket`, { method: 'POST', token: VIEWER, body: '{}' })).status).toBe(403);
    expect((await api(c, `/incidents/${inc.id}/ticket`, { method: 'POST', body: '{}' })).status).toBe(202);
    await waitFor('the ticket', async () => ticketsFor(store).length === 1, 30_000, 200);
    const again = await waitFor('the ticket recorded', async () => {
      const r = await api(c, `/incidents/${inc.id}/ticket`, { method: 'POST', body: '{}' });
      return r.status === 200 ? r.body : undefined;
    }, 20_000);
    expect(again.created).toBe(false);
    expect(ticketsFor(store)).toHaveLength(1);
  });

  it('Xero context: the item behind MISSING_PRICE and the invoice behind PAYMENT_FAILED reach the LLM and the ticket; Xero down → triage goes on and says so', async () => {
    const payment = rule.replace('name: pos-missing-price', 'name: pos-payment-failed').replace('error.type: MISSING_PRICE', 'error.type: PAYMENT_FAILED').replace('error_type: MISSING_PRICE', 'error_type: PAYMENT_FAILED');
    const s = await stack(true, true, { 'missing-price.yml': rule, 'payment.yml': payment });
    const store = `STORE_${s.ns}`;
    const paymentLine = posErrorLine('payment-failed', { store, rand: rng(1) }).replace(/INV-\d+/g, 'INV-4242');
    s.log.append([missingPrice(store, 999), paymentLine]);
    await waitFor('two tickets', async () => ticketsFor(store).length === 2, 30_000, 200);
    const texts = ticketsFor(store).map((t) => JSON.stringify(t.fields.description));
    expect(texts.some((t) => t.includes("Xero lists item 999 'Mystery Product' at 4.50; the POS master data has no price"))).toBe(true);
    expect(texts.some((t) => t.includes('Xero has invoice INV-4242 with status AUTHORISED, 23.50 due'))).toBe(true);
    expect(llm.prompts.some((p) => p.includes('Mystery Product') && p.includes('4.5'))).toBe(true);
    expect(xero.tokensIssued).toBe(1); // one client-credentials token, reused

    xero.mode = 'down';
    const other = `STORE_${s.ns}_B`;
    s.log.append([missingPrice(other, 999)]);
    await waitFor('the ticket', async () => ticketsFor(other).length === 1, 30_000, 200);
    expect(JSON.stringify(ticketsFor(other)[0].fields.description)).toContain('Xero answered 503; triage went on without it');
    expect(s.collectors[0].proc.output).not.toContain(XERO_SECRET);
  });

  it('without an LLM, triage is the runbook and similar past incidents, labelled so', async () => {
    const s = await stack(false);
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store)]);
    const [ticket] = await waitFor('the ticket', async () => (ticketsFor(store).length ? ticketsFor(store) : undefined), 30_000, 100);
    expect(JSON.stringify(ticket.fields.description)).toContain('Runbook triage (no LLM configured: runbook and similar past incidents only)');
    const [inc] = await incidentsOf(es, s.ns);
    expect(inc.triage.source).toBe('runbook');
    expect(inc.timeline.map((t: any) => t.stage)).toContain('triage_completed');
  });
});
