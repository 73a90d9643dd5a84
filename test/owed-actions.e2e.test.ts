// An incident whose firing reached Elasticsearch while its alert and triage were never queued:
// the write's answer was lost (a node died after replicating it, and the client's retry met the
// document — a conflict) or the collector died between the write and the queueing. Seen in the
// three-node test: one store of ten kept its incident and got no ticket and no chat alert.
// The firing write records actions_pending; a collector queues what is owed after 30 s, once.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { INCIDENTS_INDEX } from '@stacklens/detection';
import { esClient, sleep, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { incidentsOf, missingPrice, missingPriceAnyRule, startStack, testSecret } from './stack.js';
import { FakeJira } from './fakes/jira-server.js';
import { FakeSlack } from './fakes/slack-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const JIRA_TOKEN = testSecret('jira');
const SLACK_TOKEN = testSecret('xoxb');
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const slack = new FakeSlack(SLACK_TOKEN);
const env = { JIRA_API_TOKEN: JIRA_TOKEN, SLACK_BOT_TOKEN: SLACK_TOKEN };

beforeAll(async () => {
  await Promise.all([jira.start(), slack.start()]);
});
afterAll(async () => {
  await Promise.all([jira.stop(), slack.stop()]);
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

const integrations = () => `integrations:
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    api_url: ${slack.url}/api/
    channel: "#oncall"
    index_messages: false
`;

describe('an incident that fired without its actions being queued', () => {
  it('gets its chat alert, triage and ticket once, from the collector that finds it owed', async () => {
    const s = await startStack(esUrl, running, { 'missing-price.yml': missingPriceAnyRule('pos-missing-price', 'notify: [jira, slack]') }, { extra: integrations(), env });
    const ticketsOf = (store: string) => jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`));
    const alertsOf = (id: string) => slack.posts().filter((m) => m.metadata?.event_payload?.incident_id === id);

    // The normal path: an incident, its ticket and its alert; actions_pending cleared.
    const storeA = `STORE_OWED_A_${s.ns}`;
    s.log.append([missingPrice(storeA)]);
    const [a] = await waitFor('store A: an incident with its ticket and alert', async () => {
      const found = (await incidentsOf(es, s.ns)).filter((i) => i.group?.['pos.store_id'] === storeA);
      return found.length === 1 && ticketsOf(storeA).length === 1 && alertsOf(found[0].id).length === 1 && found[0].actions_pending === false ? found : undefined;
    }, 60_000, 250);

    // The fault: store B's firing written 40 s ago, as the engine writes it, and nothing queued.
    const storeB = `STORE_OWED_B_${s.ns}`;
    const firedAt = new Date(Date.now() - 40_000).toISOString();
    const id = randomBytes(16).toString('hex');
    const b = {
      ...a,
      id,
      fingerprint: id,
      group: { 'pos.store_id': storeB },
      group_key: `pos.store_id=${storeB}`,
      summary: a.summary.replaceAll(storeA, storeB),
      samples: a.samples.map((x: Record<string, any>) => ({ ...x, pos: { ...x.pos, store_id: storeB } })),
      detected_at: firedAt,
      updated_at: firedAt,
      last_matched_at: firedAt,
      last_fired_at: firedAt,
      fire_count: 1,
      actions_pending: true,
      timeline: [{ stage: 'detected', at: firedAt, note: 'written by a collector that died before queueing its actions' }],
      triage: undefined,
      ticket: undefined,
      ticket_state: undefined,
      chat: undefined,
    };
    await es.index({ index: INCIDENTS_INDEX, id, document: { '@timestamp': firedAt, ...b }, refresh: true });

    await waitFor('store B: its ticket and its alert', async () => ticketsOf(storeB).length === 1 && alertsOf(id).length === 1, 60_000, 250);
    await waitFor('store B: actions_pending cleared', async () => (await es.get<any>({ index: INCIDENTS_INDEX, id }))._source.actions_pending === false, 30_000, 250);
    await sleep(3000); // a second ticket or post, if one were coming, comes within the same outbox pass
    expect(ticketsOf(storeB)).toHaveLength(1);
    expect(alertsOf(id)).toHaveLength(1);
    expect(ticketsOf(storeA)).toHaveLength(1);
    expect(alertsOf(a.id)).toHaveLength(1);
    const stages = (await es.get<any>({ index: INCIDENTS_INDEX, id }))._source.timeline.map((t: { stage: string }) => t.stage);
    expect(stages.filter((x: string) => x === 'triage_pending')).toHaveLength(1);
    expect(s.collectors[0].proc.output).toMatch(/queueing the alert and triage of an incident that fired without them being queued/);
    const metrics = await (await fetch(`${s.collectors[0].url}/metrics`)).text();
    expect(metrics).toMatch(/^stacklens_incident_owed_actions_queued_total 1$/m);
  }, 180_000);
});
