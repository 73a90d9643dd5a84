// Chat alert tasks carry their destination as a typed payload (the id is only the outbox's
// dedupe key); tasks queued by older versions, without a payload, still run: their
// destination is read from the id by legacyChatPayload, the one place ids are parsed.
import { describe, expect, it } from 'vitest';
import { buildRule, openIncident, ruleSchema, type Incident } from '@stacklens/detection';
import type { Outbox, Task, TaskHandler } from '../../outbox/outbox.js';
import { ChatAlerts, chatTaskPlace, legacyChatPayload } from './alerts.js';
import type { ChatSender } from './sender.js';
import type { Destination } from './routing.js';

const rule = buildRule(ruleSchema.parse({ name: 'pos-missing-price', severity: 'critical', dataset: 'pos', type: 'any', group_by: ['pos.store_id'], notify: ['slack'] }), 'r.yml');

function incident(): Incident {
  const sample = { '@timestamp': '2026-01-10T10:00:00.000Z', message: 'MISSING_PRICE', pos: { store_id: 'S1' } };
  return openIncident(rule, { key: { 'pos.store_id': 'S1' }, template: 'MISSING_PRICE', count: 1, first: Date.parse(sample['@timestamp']), last: Date.parse(sample['@timestamp']), summary: '1 event', samples: [sample] } as never, Date.parse(sample['@timestamp']));
}

/** An outbox that keeps the queued tasks, and an incident store in memory. */
function harness(inc: Incident, capabilities = ['slack']) {
  const tasks: Task[] = [];
  const handlers = new Map<string, TaskHandler>();
  const outbox = {
    capabilities,
    handle: (action: string, h: TaskHandler) => handlers.set(action, h),
    enqueue: async (action: string, incident_id: string, id: string, opts: { payload?: Record<string, unknown>; needs?: string[] }) => {
      tasks.push({ id, action, incident_id, payload: opts.payload, needs: opts.needs, status: 'pending', attempts: 1, not_before: '', created_at: '', updated_at: '' });
      return true;
    },
  } as unknown as Outbox;
  let stored = inc;
  const incidents = {
    get: async () => ({ incident: stored }),
    update: async (_id: string, change: (i: Incident) => Promise<Incident | undefined>) => {
      const next = await change(stored);
      if (next) stored = next;
      return next;
    },
  } as never;
  const posted: Destination[] = [];
  const sender: ChatSender = {
    platform: 'slack',
    canEdit: true,
    post: async (dest) => (posted.push(dest), { channel_id: 'C1', message_id: '1.2' }),
    findPosted: async () => undefined,
    update: async () => undefined,
    reply: async () => undefined,
  };
  const log = { info: () => undefined, warn: () => undefined, child: () => log } as never;
  const alerts = new ChatAlerts(outbox, incidents, log);
  alerts.configure({ chat: { answer_within: 2500, teams: {} }, senders: { slack: sender }, defaults: { slack: '#oncall' } });
  const run = (t: Task) => handlers.get(t.action)!(t, { final: false, missing: [] });
  return { alerts, tasks, posted, run, incident: () => stored };
}

describe('chat alert tasks', () => {
  it('carry their destination as payload; the handler posts there, whatever the id says', async () => {
    const h = harness(incident());
    await h.alerts.fired(h.incident());
    expect(h.tasks).toEqual([expect.objectContaining({ action: 'chat_post', payload: { platform: 'slack', workspace: '', channel: '#oncall' }, needs: ['slack'] })]);
    // The id is a dedupe key only: the payload decides.
    await h.run({ ...h.tasks[0], id: 'chat_post:opaque' });
    expect(h.posted).toEqual([{ platform: 'slack', workspace: '', channel: '#oncall' }]);
    expect(h.incident().chat?.messages).toEqual([expect.objectContaining({ platform: 'slack', workspace: '', channel: '#oncall', message_id: '1.2' })]);
    await h.alerts.changed(h.incident());
    expect(h.tasks.at(-1)).toMatchObject({ action: 'chat_update', payload: { platform: 'slack', workspace: '' } });
  });

  it('need the platform; a Slack workspace with its own token here needs that token (the descriptor says)', async () => {
    const inc = incident();
    const ref = (workspace: string) => ({ platform: 'slack', workspace, channel: '#oncall', channel_id: 'C1', message_id: '1.2', posted_at: '', replied: 0 });
    inc.chat = { messages: [ref('T1'), ref('T2'), ref('')] };
    const h = harness(inc, ['slack', 'slack:T1']);
    await h.alerts.grew(inc);
    expect(h.tasks.map((t) => [t.payload, t.needs])).toEqual([
      [{ platform: 'slack', workspace: 'T1' }, ['slack', 'slack:T1']],
      [{ platform: 'slack', workspace: 'T2' }, ['slack']],
      [{ platform: 'slack', workspace: '' }, ['slack']],
    ]);
  });

  it('a task queued by an older version (no payload) still runs, its destination read from the id', async () => {
    const h = harness(incident());
    const inc = h.incident();
    await h.run({ id: `chat_post:${inc.id}:slack::#ops:room`, action: 'chat_post', incident_id: inc.id, status: 'running', attempts: 1, not_before: '', created_at: '', updated_at: '' });
    expect(h.posted).toEqual([{ platform: 'slack', workspace: '', channel: '#ops:room' }]);
    const update = await h.run({ id: `chat_update:${inc.id}:slack::t1:open`, action: 'chat_update', incident_id: inc.id, status: 'running', attempts: 1, not_before: '', created_at: '', updated_at: '' });
    expect(update).toMatchObject({ messages: 1 });
  });
});

describe('legacyChatPayload', () => {
  const task = (id: string) => ({ id, action: id.split(':')[0] });
  it('reads the destination the old ids carried', () => {
    expect(legacyChatPayload(task('chat_post:inc-1:slack:T1:#oncall'))).toEqual({ platform: 'slack', workspace: 'T1', channel: '#oncall' });
    expect(legacyChatPayload(task('chat_post:inc-1:mattermost::town:square'))).toEqual({ platform: 'mattermost', workspace: '', channel: 'town:square' });
    expect(legacyChatPayload(task('chat_post:inc-1:teams'))).toEqual({ platform: 'teams' });
    expect(legacyChatPayload(task('chat_update:inc-1:slack:T1:t4:open'))).toEqual({ platform: 'slack', workspace: 'T1' });
    expect(legacyChatPayload(task('chat_update:inc-1:mattermost::p123'))).toEqual({ platform: 'mattermost', workspace: '' });
    // The oldest chat_update ids named no platform: every message of the incident.
    expect(legacyChatPayload(task('chat_update:inc-1:t4:open'))).toEqual({});
  });

  it('the failure note names the place from the payload, or from an old id', () => {
    const base = { incident_id: 'inc-1', status: 'failed', attempts: 1, not_before: '', created_at: '', updated_at: '' } as const;
    expect(chatTaskPlace({ ...base, id: 'x', action: 'chat_post', payload: { platform: 'slack', workspace: 'T1', channel: '#oncall' } })).toBe('slack T1 #oncall');
    expect(chatTaskPlace({ ...base, id: 'x', action: 'chat_update', payload: { platform: 'mattermost', workspace: '' } })).toBe('mattermost');
    expect(chatTaskPlace({ ...base, id: 'chat_post:inc-1:slack::#oncall', action: 'chat_post' })).toBe('slack #oncall');
  });
});
