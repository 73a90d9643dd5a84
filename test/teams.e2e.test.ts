// Microsoft Teams alerts through the CLIs: a rule with `notify: [teams]` posts one Adaptive
// Card per incident opened to the Teams incoming webhook (a local fake), each lifecycle change
// another card; a 429 is retried after its Retry-After.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, sleep, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, incidentsOf, missingPrice, missingPriceAnyRule, startStack } from './stack.js';
import { FakeTeams } from './fakes/teams-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const teams = new FakeTeams();

beforeAll(() => teams.start());
afterAll(() => teams.stop());
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

/** The cards of one incident: the alert (no change on top) and the changes. */
const cardsOf = (id: string) => teams.cards.filter((c) => JSON.stringify(c.card).includes(`StackLens incident ${id}`));
const isAlert = (c: { card: any }) => /^[A-Z]+ · /.test(c.card.body[0].text);

describe('Microsoft Teams incoming webhook', () => {
  it('one card per incident opened, one per change; a 429 is retried after Retry-After', async () => {
    const s = await startStack(esUrl, running, { 'r.yml': missingPriceAnyRule('teams-missing-price', 'notify: [teams]') }, {
      extra: `integrations:\n  teams:\n    webhook_url: \${TEAMS_WEBHOOK_URL}\n    channel: ops-alerts\n    timeout: 2s\n`,
      env: { TEAMS_WEBHOOK_URL: teams.webhookUrl() },
    });
    const storeA = `STORE_A_${s.ns}`;
    const storeB = `STORE_B_${s.ns}`;
    // The first post is throttled: Teams says when to come back.
    teams.answers.push({ status: 429, retryAfter: 2 });
    const from = teams.requests.length;
    s.log.append([missingPrice(storeA, 999)]);
    const incA = await waitFor('incident A', async () => (await incidentsOf(es, s.ns)).find((i) => i.group_key.includes(storeA)), 30_000);
    const [alertA] = await waitFor('the card of incident A', async () => cardsOf(incA.id).length > 0 && cardsOf(incA.id), 30_000);
    const throttled = teams.requests[from];
    expect(throttled.status).toBe(429);
    expect(alertA.at - throttled.at).toBeGreaterThanOrEqual(1900);
    expect(teams.requests.slice(from).filter((r) => r.status === 429)).toHaveLength(1);
    expect(alertA.card.body.find((b: any) => b.type === 'FactSet').facts).toEqual(expect.arrayContaining([{ title: 'Severity', value: 'critical' }]));
    expect(alertA.card.body[1].text).toContain('MISSING_PRICE');

    // Another store: another incident, its own card; more events of A post no new alert.
    s.log.append([missingPrice(storeB, 998), missingPrice(storeA, 999)]);
    const incB = await waitFor('incident B', async () => (await incidentsOf(es, s.ns)).find((i) => i.group_key.includes(storeB)), 30_000);
    await waitFor('the card of incident B', async () => cardsOf(incB.id).some(isAlert), 30_000);
    // A's second event counted before A is resolved: arriving after, it would reopen A (a recurrence).
    await waitFor("incident A's second event", async () => (await incidentsOf(es, s.ns)).find((i) => i.id === incA.id)?.count >= 2, 30_000);

    // A change: a new card headed by it.
    const resolved = await fetch(`${s.collectors[0].url}/api/incidents/${incA.id}/resolve`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ by: 'frank' }) });
    expect(resolved.status).toBe(200);
    const change = await waitFor('the resolve card', async () => cardsOf(incA.id).find((c) => c.card.body[0].text === 'Resolved by frank'), 30_000);
    expect(change.card.body[1].text).toBe('CRITICAL · resolved');
    await sleep(1500); // anything posted twice would arrive by now
    expect(cardsOf(incA.id).filter(isAlert)).toHaveLength(1);
    expect(cardsOf(incB.id).filter(isAlert)).toHaveLength(1);
    expect(cardsOf(incA.id).filter((c) => c.card.body[0].text === 'Resolved by frank')).toHaveLength(1);
    const [stored] = (await incidentsOf(es, s.ns)).filter((i) => i.id === incA.id);
    expect(stored.chat.messages).toEqual([expect.objectContaining({ platform: 'teams', workspace: '', channel: 'ops-alerts', message_id: '' })]);
  });
});
