// The Microsoft Teams card: severity, summary, counts, AI root cause and fixes, the Jira link;
// and the webhook sender's answers: 202 taken, 429 retried after Retry-After, 5xx and no
// answer retried, other 4xx final (against the fake Teams webhook, no Elasticsearch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRule, openIncident, ruleSchema, type Incident } from '@stacklens/detection';
import { RetryableError } from '../../outbox/outbox.js';
import { FakeTeams } from '../../../../test/fakes/teams-server.js';
import { teamsCard, teamsMessage, teamsSender } from './teams.js';
import { retryAfterMs } from './webhook.js';
import { destinations } from './routing.js';
import { chatSchema } from '../../config.js';
import { testIntegration } from '../../admin/connection-tests.js';
import { teamsSchema } from '../../integrations/descriptors/teams.js';

const rule = buildRule(ruleSchema.parse({ name: 'pos-missing-price', severity: 'critical', dataset: 'pos', namespace: 'default', type: 'any', group_by: ['pos.store_id'], labels: { error_type: 'MISSING_PRICE' }, runbook: 'Set the price.', notify: ['teams'] }), 'r.yml');

function incident(): Incident {
  const sample = { '@timestamp': '2026-01-10T10:00:00.000Z', message: 'MISSING_PRICE: Product #999 has no price', pos: { store_id: 'S1', kiosk_id: 'K1' } };
  return openIncident(rule, { key: { 'pos.store_id': 'S1' }, template: 'Product #<num> has no price', count: 3, first: Date.parse(sample['@timestamp']) - 60_000, last: Date.parse(sample['@timestamp']), summary: '3 events', samples: [sample] } as never, Date.parse(sample['@timestamp']));
}

const texts = (card: any): string => JSON.stringify(card);

describe('teamsCard', () => {
  it('an Adaptive Card message with severity, summary, counts and the incident id', () => {
    const inc = incident();
    const msg = teamsMessage(inc);
    expect(msg.type).toBe('message');
    expect(msg.attachments).toHaveLength(1);
    expect(msg.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = msg.attachments[0].content as any;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(card.body[0]).toMatchObject({ type: 'TextBlock', text: 'CRITICAL · open', color: 'Attention' });
    expect(card.body[1].text).toContain('Product #999 has no price');
    const facts = Object.fromEntries(card.body.find((b: any) => b.type === 'FactSet').facts.map((f: any) => [f.title, f.value]));
    expect(facts.Severity).toBe('critical');
    expect(facts.Events).toMatch(/^3 \(first /);
    expect(facts.Store).toBe('S1');
    expect(texts(card)).toContain(`StackLens incident ${inc.id}`);
    expect(card.actions).toEqual([]);
  });

  it('the AI root cause, the suggested fixes and the Jira link when known', () => {
    const inc = incident();
    inc.triage = { source: 'llm', analysis: { root_cause: 'Price list not synced', confidence: 0.82, suggestions: [{ action: 'Re-run the price sync' }, { action: 'Add item 999' }] } };
    inc.ticket = { key: 'OPS-7', url: 'https://jira.example/browse/OPS-7' };
    const card = teamsCard(inc) as any;
    const analysis = card.body.find((b: any) => b.type === 'TextBlock' && String(b.text).startsWith('AI root cause'));
    expect(analysis.text).toContain('confidence 82%');
    expect(analysis.text).toContain('Price list not synced');
    expect(analysis.text).toContain('1. Re-run the price sync');
    expect(analysis.text).toContain('2. Add item 999');
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Jira OPS-7', url: 'https://jira.example/browse/OPS-7' }]);
  });

  it('a lifecycle change heads its own card, the state below', () => {
    const inc = incident();
    inc.status = 'resolved';
    const card = teamsCard(inc, 'Resolved by frank') as any;
    expect(card.body[0]).toMatchObject({ text: 'Resolved by frank', weight: 'Bolder' });
    expect(card.body[1].text).toBe('CRITICAL · resolved');
  });

  it('long texts are cut (Teams refuses large messages)', () => {
    const inc = incident();
    inc.triage = { source: 'llm', analysis: { root_cause: 'x'.repeat(10_000), confidence: 0.5, suggestions: [] } };
    expect(JSON.stringify(teamsMessage(inc)).length).toBeLessThan(6000);
  });
});

describe('routing notify: [teams]', () => {
  it('goes to the webhook\'s one channel when Teams is configured, team routes or not', () => {
    const chat = chatSchema.parse({ teams: { pos: { slack: { channels: '#pos' } } } });
    const inc = { ...incident(), labels: { team: 'pos' } };
    expect(destinations(inc, chat, { teams: 'ops-alerts' })).toEqual([{ platform: 'teams', workspace: '', channel: 'ops-alerts' }]);
    expect(destinations(inc, chat, {})).toEqual([]);
  });
});

describe('the Teams webhook sender', () => {
  const teams = new FakeTeams();
  beforeAll(() => teams.start());
  afterAll(() => teams.stop());
  const dest = { platform: 'teams' as const, workspace: '', channel: 'ops' };

  it('posts one card per alert and per change', async () => {
    const results: string[] = [];
    const sender = teamsSender(teams.webhookUrl(), 2000, (r) => results.push(r));
    const inc = incident();
    const before = teams.cards.length;
    await sender.post(dest, inc);
    await sender.reply({ ...dest, channel_id: 'ops', message_id: '', posted_at: '', replied: 0 }, inc, 'Acknowledged by frank');
    expect(teams.cards.slice(before).map((c) => c.card.body[0].text)).toEqual(['CRITICAL · open', 'Acknowledged by frank']);
    expect(results).toEqual(['ok', 'ok']);
  });

  it('429 is retryable after its Retry-After; 500 and no answer retryable; 404 final', async () => {
    const sender = teamsSender(teams.webhookUrl(), 500, () => {});
    teams.answers.push({ status: 429, retryAfter: 7 });
    const limited = await sender.post(dest, incident()).catch((e) => e);
    expect(limited).toBeInstanceOf(RetryableError);
    expect(limited.retryAfterMs).toBe(7000);
    teams.answers.push({ status: 500 });
    expect(await sender.post(dest, incident()).catch((e) => e)).toBeInstanceOf(RetryableError);
    teams.answers.push('hang');
    const hung = await sender.post(dest, incident()).catch((e) => e);
    expect(hung).toBeInstanceOf(RetryableError);
    expect(hung.message).toContain('did not answer within');
    const gone = await teamsSender(teams.webhookUrl('deleted'), 500, () => {}).post(dest, incident()).catch((e) => e);
    expect(gone).toBeInstanceOf(Error);
    expect(gone).not.toBeInstanceOf(RetryableError);
    expect(gone.message).toBe('teams webhook answered HTTP 404');
  });

  it('Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('0')).toBeUndefined();
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5_000)).toBe(5000);
  });

  it('the connection test posts a small card; a refused one reports the status in our words', async () => {
    const before = teams.cards.length;
    expect(await testIntegration('teams', teamsSchema.parse({ webhook_url: teams.webhookUrl(), channel: 'ops' }))).toBe('Microsoft Teams: test card posted (HTTP 202)');
    expect(JSON.stringify(teams.cards.slice(before))).toContain('StackLens connection test for ops');
    const err = await testIntegration('teams', teamsSchema.parse({ webhook_url: teams.webhookUrl('deleted') })).catch((e) => e);
    expect(err.message).toBe('HTTP 404 from Microsoft Teams (not found: check the URL)');
    expect(err.message).not.toContain('fake-signature');
  });
});
