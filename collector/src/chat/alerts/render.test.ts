// What an alert says and how it is drawn: the view (title, fields, analysis, the buttons that
// still make sense), Slack Block Kit, the Mattermost attachment, and thread replies.
import { describe, expect, it } from 'vitest';
import { buildRule, openIncident, ruleSchema, type Incident, type TimelineEntry } from '@stacklens/detection';
import { ACTIONS, alertView, mattermostAttachment, slackBlocks, threadText } from './render.js';

const T0 = Date.parse('2024-11-16T10:00:00.000Z');
const rule = buildRule(ruleSchema.parse({ name: 'pos-missing-price', severity: 'critical', dataset: 'pos', namespace: 'default', type: 'any', group_by: ['pos.store_id'], labels: { error_type: 'MISSING_PRICE' }, runbook: 'Set the price.' }), 'r.yml');
let offset = 0;
const sample = (store: string, kiosk: string, message = 'Product #999 has no price') => ({ '@timestamp': new Date(T0).toISOString(), message, log: { offset: offset++ }, pos: { store_id: store, kiosk_id: kiosk } });

function incident(over: Partial<Incident> = {}, samples = [sample('STORE_001', 'KIOSK_01'), sample('STORE_001', 'KIOSK_02'), sample('STORE_001', 'KIOSK_01')]): Incident {
  const inc = openIncident(rule, { key: { 'pos.store_id': 'STORE_001' }, template: 'Product #<num> has no price', count: 3, first: T0 - 60_000, last: T0, summary: '3 events', samples }, T0);
  return { ...inc, ...over };
}

const ids = (v: { actions: readonly { id: string }[] }) => v.actions.map((a) => a.id);
const fieldsOf = (v: ReturnType<typeof alertView>) => Object.fromEntries(v.fields.map((f) => [f.title, f.value]));

describe('alertView', () => {
  it('says what happened, where, how often, under which rule; in the severity colour', () => {
    const v = alertView(incident());
    expect(v.title).toBe('[CRITICAL] MISSING_PRICE: Product #999 has no price (STORE_001)');
    expect(v.colour).toBe('#d62728');
    expect(fieldsOf(v)).toEqual({
      Severity: 'critical',
      Status: 'open',
      Events: `3 (first ${new Date(T0 - 60_000).toISOString()}, last ${new Date(T0).toISOString()})`,
      Rule: 'pos-missing-price',
      Store: 'STORE_001',
      Kiosk: 'KIOSK_01, KIOSK_02',
    });
    expect(v.analysis).toBeUndefined();
    expect(v.fallback).toBe('[CRITICAL] MISSING_PRICE: Product #999 has no price (STORE_001) — 3 event(s), open');
    expect(alertView(incident({ severity: 'low' })).colour).toBe('#1f77b4');
    expect(alertView(incident({ severity: 'unheard-of' })).colour).toBe('#888888');
  });

  it('without store ids in the samples, the group key stands in; a long message is cut; secrets in a log line stay out', () => {
    const noStore = alertView(incident({ group_key: 'host=pos-7' }, [{ '@timestamp': '', message: 'x' } as never]));
    expect(fieldsOf(noStore).Group).toBe('host=pos-7');
    expect(fieldsOf(noStore).Store).toBeUndefined();
    const long = alertView(incident({}, [sample('S', 'K', `checkout failed ${'x'.repeat(400)}`)]));
    expect(long.title.length).toBe(150);
    const secret = 'hunter2-not-real';
    const leaky = incident({}, [sample('STORE_001', 'K', `login failed password=${secret}`)]);
    expect(JSON.stringify([alertView(leaky), slackBlocks(leaky), mattermostAttachment(leaky, undefined)])).not.toContain(secret);
  });

  it('shows who acknowledged or resolved it', () => {
    expect(fieldsOf(alertView(incident({ status: 'acknowledged', acknowledged_by: 'dana' }))).Status).toBe('acknowledged (by dana)');
    expect(fieldsOf(alertView(incident({ status: 'resolved', resolved_by: 'sam' }))).Status).toBe('resolved (by sam)');
    // A stale acknowledgement of a reopened incident is not shown.
    expect(fieldsOf(alertView(incident({ status: 'open', acknowledged_by: 'dana' }))).Status).toBe('open');
  });

  it('offers only the buttons that still make sense', () => {
    expect(ids(alertView(incident()))).toEqual(['ack', 'resolve', 'ticket', 'silence']);
    expect(ids(alertView(incident({ status: 'acknowledged' })))).toEqual(['resolve', 'ticket', 'silence']);
    expect(ids(alertView(incident({ ticket: { key: 'OPS-7', url: 'https://jira.example/browse/OPS-7' } })))).toEqual(['ack', 'resolve', 'silence']);
    expect(ids(alertView(incident({ status: 'resolved' })))).toEqual([]);
    expect(ACTIONS.map((a) => a.id)).toEqual(['ack', 'resolve', 'ticket', 'silence']);
  });

  it('the AI analysis: root cause, confidence and at most three fixes; else the runbook triage', () => {
    const ai = alertView(
      incident({
        triage: {
          source: 'llm',
          analysis: { root_cause: 'Product 999 has no price in the master data', confidence: 0.864, suggestions: [{ action: 'Set the price' }, { action: 'Re-run the order' }, 'Tell the store', { action: 'not shown' }] },
        },
      }),
    );
    expect(ai.analysis).toBe('AI root cause (confidence 86%): Product 999 has no price in the master data\nSuggested fixes:\n1. Set the price\n2. Re-run the order\n3. Tell the store');
    expect(alertView(incident({ triage: { source: 'runbook', note: 'no LLM configured' } })).analysis).toBe('Runbook: Set the price. (no LLM configured)');
    expect(alertView(incident({ runbook: '', triage: { source: 'runbook' } })).analysis).toBe('Runbook: (none)');
  });

  it('the fallback text names the ticket', () => {
    expect(alertView(incident({ status: 'acknowledged', ticket: { key: 'OPS-7', url: 'u' } })).fallback).toMatch(/— 3 event\(s\), acknowledged, OPS-7$/);
  });
});

describe('slackBlocks', () => {
  it('header, fields, analysis, ticket link, incident id and buttons carrying the incident id', () => {
    const inc = incident({ ticket: { key: 'OPS-7', url: 'https://jira.example/browse/OPS-7' }, triage: { note: 'n' } });
    const { text, blocks } = slackBlocks(inc) as { text: string; blocks: any[] };
    expect(text).toBe(alertView(inc).fallback);
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'context', 'actions']);
    expect(blocks[0].text).toEqual({ type: 'plain_text', text: alertView(inc).title, emoji: true });
    expect(blocks[1].fields[0]).toEqual({ type: 'mrkdwn', text: '*Severity*\ncritical' });
    expect(blocks[3].elements[0].text).toBe('Jira: <https://jira.example/browse/OPS-7|OPS-7>');
    expect(blocks[4].elements[0].text).toBe(`:red_circle: StackLens incident \`${inc.id}\``);
    expect(blocks[5].block_id).toBe(`stacklens:${inc.id}`);
    expect(blocks[5].elements).toEqual([
      { type: 'button', action_id: 'stacklens_ack', text: { type: 'plain_text', text: 'Acknowledge' }, value: inc.id, style: 'primary' },
      { type: 'button', action_id: 'stacklens_resolve', text: { type: 'plain_text', text: 'Resolve' }, value: inc.id, style: 'primary' },
      { type: 'button', action_id: 'stacklens_silence', text: { type: 'plain_text', text: 'Silence 1 h' }, value: inc.id, style: 'danger' },
    ]);
  });

  it('escapes what Slack would read as markup (<, >, &) in fields and analysis; a resolved alert has no buttons', () => {
    const inc = incident({ status: 'resolved', rule: 'a<b>&c', triage: { analysis: { root_cause: '<!channel> & <@U1>', confidence: 1 } } });
    const { blocks } = slackBlocks(inc) as { blocks: any[] };
    const mrkdwn = JSON.stringify(blocks.filter((b) => b.type === 'section'));
    expect(mrkdwn).toContain('a&lt;b&gt;&amp;c');
    expect(mrkdwn).toContain('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(mrkdwn).not.toContain('<!channel>');
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('stays within Block Kit limits: at most 10 fields, an analysis of at most 2,900 characters', () => {
    const inc = incident({ triage: { analysis: { root_cause: 'y'.repeat(5000), confidence: 0.5 } } });
    const { blocks } = slackBlocks(inc) as { blocks: any[] };
    expect(blocks[1].fields.length).toBeLessThanOrEqual(10);
    expect(blocks[2].text.text.length).toBe(2900);
  });
});

describe('mattermostAttachment', () => {
  it('colour, title, text with analysis, ticket and id; short fields but Events; signed callbacks per button', () => {
    const inc = incident({ ticket: { key: 'OPS-7', url: 'https://jira.example/browse/OPS-7' }, triage: { note: 'n' } });
    const a = mattermostAttachment(inc, (action) => ({ url: `https://collector/mm/${action}`, context: { action, sig: 'x' } })) as any;
    expect(a).toMatchObject({ fallback: alertView(inc).fallback, color: '#d62728', title: alertView(inc).title });
    expect(a.text).toBe(`Runbook: Set the price. (n)\nJira: [OPS-7](https://jira.example/browse/OPS-7)\nStackLens incident \`${inc.id}\``);
    expect(a.fields.filter((f: any) => !f.short).map((f: any) => f.title)).toEqual(['Events']);
    expect(a.actions).toEqual([
      { id: 'ack', name: 'Acknowledge', type: 'button', style: 'primary', integration: { url: 'https://collector/mm/ack', context: { action: 'ack', sig: 'x' } } },
      { id: 'resolve', name: 'Resolve', type: 'button', style: 'primary', integration: { url: 'https://collector/mm/resolve', context: { action: 'resolve', sig: 'x' } } },
      { id: 'silence', name: 'Silence 1 h', type: 'button', style: 'danger', integration: { url: 'https://collector/mm/silence', context: { action: 'silence', sig: 'x' } } },
    ]);
  });

  it('without a callback (webhook mode) there are no buttons', () => {
    expect((mattermostAttachment(incident(), undefined) as any).actions).toEqual([]);
  });
});

describe('threadText', () => {
  const at = new Date(T0).toISOString();
  const reply = (e: Partial<TimelineEntry>, over: Partial<Incident> = {}) => threadText(incident(over), { stage: 'x', at, ...e });

  it('replies for the stages a thread tells, in words', () => {
    expect(reply({ stage: 'acknowledged', by: 'dana' })).toBe('Acknowledged by dana');
    expect(reply({ stage: 'resolved', by: 'stacklens', note: 'no new match during the quiet period' })).toBe('Resolved by stacklens: no new match during the quiet period');
    expect(reply({ stage: 'reopened', note: '3 events' })).toBe('Reopened: 3 events');
    expect(reply({ stage: 'triage_failed', note: 'LLM timed out' })).toBe('Triage failed: LLM timed out');
    expect(reply({ stage: 'ticket_failed', note: 'Jira refused (400)' })).toBe('Ticket failed: Jira refused (400)');
    expect(reply({ stage: 'triage_completed', note: 'llm' })).toBe('Triage done (llm).');
    expect(reply({ stage: 'triage_completed' })).toBe('Triage done.');
    expect(reply({ stage: 'ticket_created' }, { ticket: { key: 'OPS-7', url: 'https://jira.example/browse/OPS-7' } })).toBe('Jira ticket OPS-7 https://jira.example/browse/OPS-7');
    expect(reply({ stage: 'ticket_created', note: 'OPS-8' })).toBe('Jira ticket OPS-8');
  });

  it('says nothing for the stages the alert itself shows', () => {
    for (const stage of ['detected', 'triage_pending', 'ticket_pending', 'comment_added', 'anything_else']) expect(reply({ stage }), stage).toBeUndefined();
  });
});
