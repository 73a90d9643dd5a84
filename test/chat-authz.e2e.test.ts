// Chat authorization fails closed (issue #14), through the collector CLI and the Slack and
// Mattermost protocol fakes: each crossing an attacker tried — another workspace with a
// same-named channel, a team not in chat.teams, an incident of no team, a display name equal
// to a member's id, queries from outside every team, a replayed Slack request (to another
// collector, after a restart), a stale or moved Mattermost button — is refused, changes
// nothing, and is in the audit trail; the team itself still acts.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { esClient, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { ADMIN, incidentsOf, missingPrice, missingPriceAnyRule, startStack, testSecret } from './stack.js';
import { FakeSlack } from './fakes/slack-server.js';
import { FakeMattermost } from './fakes/mattermost-server.js';
import { ActionSigner } from '../collector/src/chat/alerts/mattermost.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const SLACK_TOKEN = testSecret('xoxb');
const SIGNING_SECRET = testSecret('signing');
const MM_TOKEN = testSecret('mmtoken');
const MM_COMMAND_TOKEN = testSecret('mmcommand');
const slack = new FakeSlack(SLACK_TOKEN);
const mattermost = new FakeMattermost(MM_TOKEN);
const env = { SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, MATTERMOST_BOT_TOKEN: MM_TOKEN, MATTERMOST_COMMAND_TOKEN: MM_COMMAND_TOKEN };
const EVIL = 'T0EVIL0001'; // another workspace where the app is installed too (same signing secret)
let mmAlice = '';
let mmBob = '';

beforeAll(async () => {
  await slack.start();
  await mattermost.start();
  slack.addChannel('C0POSONCL1', 'pos-oncall');
  slack.addChannel('C0SUPPORT1', 'support');
  slack.users.set('U0ALICE001', 'alice');
  slack.users.set('U0BOB00001', 'bob');
  mattermost.addChannel('pos-oncall');
  mmAlice = mattermost.addUser('alice');
  mmBob = mattermost.addUser('bob');
});
afterAll(async () => {
  await slack.stop();
  await mattermost.stop();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

const config = () => `integrations:
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    signing_secret: \${SLACK_SIGNING_SECRET}
    api_url: ${slack.url}/api/
    channel: "#oncall"
  mattermost:
    url: ${mattermost.url}
    token: \${MATTERMOST_BOT_TOKEN}
    team: ops
    channel: oncall
    command_token: \${MATTERMOST_COMMAND_TOKEN}
    callback_url: http://stacklens.example:8080
    index_messages: false
chat:
  answer_within: 20s
  teams:
    pos:
      slack: { channels: ["#pos-oncall"], users: [U0ALICE001] }
      mattermost: { channels: [pos-oncall], users: [${mmAlice}] }
      datasets: [pos]
    support:
      slack: { channels: ["#support"] }
`;

// One log line, four incidents: team pos, team support, team payments (not in chat.teams, as
// the shipped pos-payment-failed rule), and no team.
const rules = {
  'pos.yml': missingPriceAnyRule('authz-pos', 'labels: { team: pos }\nnotify: [slack, mattermost]'),
  'support.yml': missingPriceAnyRule('authz-support', 'labels: { team: support }\nnotify: [slack]'),
  'payments.yml': missingPriceAnyRule('authz-payments', 'labels: { team: payments }\nnotify: [slack]'),
  'none.yml': missingPriceAnyRule('authz-none', 'notify: [slack]'),
};

async function stack(collectors = 1) {
  const started = new Date().toISOString();
  const s = await startStack(esUrl, running, rules, { extra: config(), env, collectors });
  s.log.append([missingPrice(`STORE_${s.ns}`, 999)]);
  const incs = await waitFor('four incidents, posted', async () => {
    const all = await incidentsOf(es, s.ns);
    return all.length === 4 && all.every((i) => i.chat?.messages?.length) ? all : undefined;
  }, 30_000, 300);
  const id = Object.fromEntries(incs.map((i) => [i.rule.replace('authz-', ''), i.id as string]));
  const status = async (which: string) => (await incidentsOf(es, s.ns)).find((i) => i.id === id[which]).status;
  return { s, url: s.collectors[0].url, id, status, started };
}

/** A slash command's text answer (answer_within is long: no follow-up). */
async function ask(url: string, text: string, who: { user_id?: string; user_name?: string; channel_id?: string; channel_name?: string; team_id?: string } = {}): Promise<string> {
  const res = await slack.command(url, SIGNING_SECRET, { text, channel_id: 'C0POSONCL1', channel_name: 'pos-oncall', ...who });
  expect(res.status).toBe(200);
  return (await res.json()).text;
}

/** At least `min` audit records since `from` of `action` (comma list) matching, as the admin API gives them. */
async function audited(url: string, from: string, action: string, match: (r: any) => boolean, min = 1): Promise<any[]> {
  return waitFor(`${min} audit record(s) of ${action}`, async () => {
    const res = await fetch(`${url}/api/audit?action=${action}&from=${from}&size=200`, { headers: { authorization: `Bearer ${ADMIN}` } });
    if (res.status !== 200) throw new Error(`GET /api/audit: ${res.status} ${await res.text()}`);
    const found = (await res.json()).records.filter(match);
    return found.length >= min ? found : undefined;
  }, 15_000, 500);
}

const mallory = { user_id: 'U0ALICE001', user_name: 'alice', team_id: EVIL, channel_id: 'C0EVILPOS1', channel_name: 'pos-oncall' };

describe('chat authorization fails closed', () => {
  it('Slack: other workspaces, unconfigured teams, no team, names posing as ids and strange channels are refused; the team acts; all audited', async () => {
    const { url, id, status, started } = await stack();

    // Another workspace, a channel of the same name, even the same user id: refused.
    expect(await ask(url, `ack ${id.pos}`, mallory)).toBe(`Not allowed: alice (U0ALICE001) may not act on ${id.pos} of team pos: that team is in another Slack workspace.`);
    const posAlert = slack.posts('C0POSONCL1').find((m) => m.metadata?.event_payload?.incident_id === id.pos)!;
    await slack.click(url, SIGNING_SECRET, posAlert, 'stacklens_resolve', { id: 'U0ALICE001', username: 'alice', team_id: EVIL });
    await waitFor('the click refused', async () => slack.responses.some((r) => r.body.text?.includes(`may not act on ${id.pos} of team pos: that team is in another Slack workspace`)), 10_000);
    // A display name equal to a member's id is not that member.
    expect(await ask(url, `ack ${id.pos}`, { user_id: 'U0MALLORY1', user_name: 'U0ALICE001' })).toBe(
      `Not allowed: U0ALICE001 (U0MALLORY1) may not act on ${id.pos} of team pos: U0ALICE001 (U0MALLORY1) is not one of its members (chat.teams.pos.slack.users).`,
    );
    // A team not in chat.teams, and no team: nobody, not even a member of another team.
    expect(await ask(url, `resolve ${id.payments}`)).toContain(`${id.payments} belongs to team payments, which chat.teams does not configure for slack, so it cannot be changed from chat; use the StackLens API, or configure chat.teams.payments.slack`);
    expect(await ask(url, `resolve ${id.none}`)).toContain(`${id.none} belongs to no team (its rule has no labels.team), so it cannot be changed from chat; use the StackLens API`);
    // A team of its channels (no users listed): a channel named like its channel is not it.
    expect(await ask(url, `ack ${id.support}`, { user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0IMPOSTR1', channel_name: 'support' })).toContain(`of team support: act from its channels (#support)`);
    for (const which of ['pos', 'support', 'payments', 'none']) expect(await status(which)).toBe('open');

    // The teams themselves act.
    expect(await ask(url, `ack ${id.support}`, { user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0SUPPORT1', channel_name: 'support' })).toBe(`${id.support} acknowledged by bob (slack).`);
    await slack.click(url, SIGNING_SECRET, posAlert, 'stacklens_ack', { id: 'U0ALICE001', username: 'alice' });
    await waitFor('alice acknowledged', async () => (await status('pos')) === 'acknowledged');
    expect(await status('support')).toBe('acknowledged');
    expect(await status('payments')).toBe('open');

    // The audit trail: each refusal, with who (chat user id), what, why, from where; and the successes.
    const refusals = await audited(url, started, 'incident.acknowledge,incident.resolve', (r) => r.event.outcome === 'failure' && r.stacklens.audit.via === 'slack' && Object.values(id).includes(r.stacklens.audit.target), 6);
    expect(refusals).toContainEqual(
      expect.objectContaining({
        event: expect.objectContaining({ action: 'incident.acknowledge', category: 'authorization', outcome: 'failure', reason: expect.stringContaining('another Slack workspace') }),
        user: expect.objectContaining({ name: 'alice', id: 'U0ALICE001' }),
        stacklens: expect.objectContaining({ audit: expect.objectContaining({ principal_kind: 'chat', target: id.pos, via: 'slack' }) }),
        source: expect.objectContaining({ ip: '127.0.0.1' }),
        http: { request: { id: expect.any(String) } },
      }),
    );
    expect(refusals).toContainEqual(expect.objectContaining({ user: expect.objectContaining({ id: 'U0MALLORY1', name: 'U0ALICE001' }), event: expect.objectContaining({ reason: expect.stringContaining('not one of its members') }) }));
    expect(refusals).toContainEqual(expect.objectContaining({ event: expect.objectContaining({ action: 'incident.resolve', reason: expect.stringContaining('team payments') }) }));
    expect(refusals).toContainEqual(expect.objectContaining({ event: expect.objectContaining({ action: 'incident.resolve', reason: expect.stringContaining('belongs to no team') }) }));
    const done = await audited(url, started, 'incident.acknowledge', (r) => r.event.outcome === 'success' && r.stacklens.audit.via === 'slack', 2);
    expect(done.map((r) => [r.stacklens.audit.target, r.user.id]).sort()).toEqual([[id.pos, 'U0ALICE001'], [id.support, 'U0BOB00001']].sort());
  });

  it('Slack: a request accepted once is refused by every other collector, and after a restart', async () => {
    const { s, started } = await stack(2);
    const [first, second] = s.collectors;
    const signed = (text: string) => {
      const body = new URLSearchParams({ team_id: slack.teamId, channel_id: 'C0POSONCL1', channel_name: 'pos-oncall', user_id: 'U0ALICE001', user_name: 'alice', command: '/stacklens', text, response_url: slack.responseUrl() }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000));
      return (c: CollectorHandle) => slack.signedPost(`${c.url}/slack/commands`, SIGNING_SECRET, body, 'application/x-www-form-urlencoded', {}, timestamp);
    };
    const once = signed(`incidents ${randomBytes(4).toString('hex')}`);
    expect((await once(first)).status).toBe(200);
    const elsewhere = await once(second);
    expect(elsewhere.status).toBe(401);
    expect((await elsewhere.json()).error).toBe('invalid Slack request: request already received (replayed)');
    // Audited by the collector that refused it (asked now: a killed process loses what it had queued).
    const replayed = (r: any) => r.event.reason === 'invalid Slack request: request already received (replayed)';
    expect((await audited(second.url, started, 'auth.slack_signature', replayed))[0]).toMatchObject({
      event: { category: 'authentication', outcome: 'failure' },
      stacklens: { audit: { via: 'slack', principal_kind: 'unknown' } },
      url: { path: '/slack/commands' },
    });

    const again = signed(`incidents ${randomBytes(4).toString('hex')}`);
    expect((await again(second)).status).toBe(200);
    await second.stop('SIGKILL');
    await second.restart(); // its memory is gone; Elasticsearch remembers
    const afterRestart = await again(second);
    expect(afterRestart.status).toBe(401);
    expect((await afterRestart.json()).error).toContain('replayed');

    await audited(second.url, started, 'auth.slack_signature', replayed, 2);
  });

  it('Slack: search, incidents and stats answer for the asker\'s teams only; someone in no team gets no data', async () => {
    const { url, id, started, s } = await stack();
    const word = `quokka${s.ns}`;
    const t = Math.floor(Date.now() / 1000) - 30;
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'message', channel: 'C0POSONCL1', user: 'U0ALICE001', text: `pos says ${word}`, ts: `${t}.000001`, event_ts: `${t}.000001` });
    await slack.deliverEvent(url, SIGNING_SECRET, { type: 'message', channel: 'C0SUPPORT1', user: 'U0BOB00001', text: `support says ${word}`, ts: `${t}.000002`, event_ts: `${t}.000002` });
    // Captured from another workspace, in a channel of the same name as pos's.
    await es.index({
      index: 'logs-chat-default',
      op_type: 'create',
      refresh: true,
      document: {
        '@timestamp': new Date().toISOString(),
        message: `evil says ${word}`,
        data_stream: { type: 'logs', dataset: 'chat', namespace: 'default' },
        chat: { platform: 'slack', type: 'message', message_id: `C0EVILPOS1:${t}`, team: { id: EVIL }, channel: { id: 'C0EVILPOS1', name: 'pos-oncall' }, user: { id: 'U0EVIL0001', name: 'eve' }, is_bot: false, deleted: false },
      },
    });
    await waitFor('both messages indexed', async () => {
      await es.indices.refresh({ index: 'logs-chat-*' });
      return (await es.count({ index: 'logs-chat-*', query: { match: { message: word } } })).count === 3;
    });

    const alices = await ask(url, `search ${word}`);
    expect(alices).toContain('1 message(s) found');
    expect(alices).toContain(`pos says *${word}*`);
    const bobs = await ask(url, `search ${word}`, { user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0SUPPORT1', channel_name: 'support' });
    expect(bobs).toContain('1 message(s) found');
    expect(bobs).toContain('support says');

    const listed = await ask(url, 'incidents');
    expect(listed).toContain(id.pos);
    for (const other of [id.support, id.payments, id.none]) expect(listed).not.toContain(other);
    const bobsList = await ask(url, 'incidents', { user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0SUPPORT1', channel_name: 'support' });
    expect(bobsList).toContain(id.support);
    expect(bobsList).not.toContain(id.pos);

    // Stats: pos owns the pos dataset (its errors); support owns only its channel.
    expect(await ask(url, 'stats')).toMatch(/\*Errors \(24 h\)\*: .*MISSING_PRICE \d+[\s\S]*\(teams pos\)/);
    const supportStats = await ask(url, 'stats', { user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0SUPPORT1', channel_name: 'support' });
    expect(supportStats).toContain('*Errors (24 h)*: none');
    expect(supportStats).toContain('(teams support)');

    // From another workspace, the same channel name and user id: nothing.
    for (const q of [`search ${word}`, 'incidents', 'stats']) {
      const text = await ask(url, q, mallory);
      expect(text).toMatch(/^You are in no StackLens team on slack here/);
      expect(text).not.toContain(word);
      expect(text).not.toContain(id.pos);
    }
    const refused = await audited(url, started, 'chat.search,chat.incidents,chat.stats', (r) => r.user?.id === 'U0ALICE001' && r.event.outcome === 'failure', 3);
    expect(refused.map((r) => r.event.action).sort()).toEqual(['chat.incidents', 'chat.search', 'chat.stats']);
  });

  it('Mattermost: buttons are bound to their channel and expire; other teams and non-members are refused; the member acts', async () => {
    const { url, id, status, started } = await stack();
    const posChannel = mattermost.channelId('pos-oncall');
    const post = await waitFor('the Mattermost alert', async () => mattermost.botPosts('pos-oncall').find((p) => p.props.stacklens_incident === id.pos));
    expect(post.channel_id).toBe(posChannel);
    const ack = post.props.attachments[0].actions.find((a: any) => a.id === 'ack').integration.context;
    expect(ack).toMatchObject({ incident_id: id.pos, action: 'ack', channel_id: posChannel, sig: expect.any(String) });
    expect(ack.exp * 1000 - Date.now()).toBeGreaterThan(7 * 86_400_000 - 120_000); // 7 days
    const click = (body: Record<string, unknown>, context = ack) =>
      fetch(`${url}/mattermost/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user_id: mmAlice, user_name: 'alice', channel_id: posChannel, channel_name: 'pos-oncall', team_id: mattermost.team.id, team_domain: 'ops', post_id: post.id, type: 'button', context, ...body }),
      });

    // The button replayed from another channel.
    const moved = await click({ channel_id: mattermost.channelId('oncall'), channel_name: 'oncall' });
    expect(moved.status).toBe(401);
    expect((await moved.json()).error).toBe('invalid action: this button belongs to an alert in another channel');
    // A context past its expiry (signed as the collector would have 8 days ago).
    const old = new ActionSigner(`${MM_COMMAND_TOKEN}|${MM_TOKEN}|`, () => Date.now() - 8 * 86_400_000).context(id.pos, 'ack', posChannel);
    const expired = await click({}, old);
    expect(expired.status).toBe(401);
    expect((await expired.json()).error).toMatch(/^invalid action: this button expired at .* use \/stacklens ack\|resolve /);
    // Another Mattermost team; a non-member; a name posing as the member's id.
    const elsewhere = await click({ team_id: 'otherteam00000000000000000', team_domain: 'evil' });
    expect((await elsewhere.json()).ephemeral_text).toContain(`may not act on ${id.pos} of team pos: that team is in another Mattermost team`);
    expect((await (await click({ user_id: mmBob, user_name: 'bob' })).json()).ephemeral_text).toContain(`bob (${mmBob}) is not one of its members`);
    expect((await (await click({ user_id: mmBob, user_name: mmAlice })).json()).ephemeral_text).toContain(`${mmAlice} (${mmBob}) is not one of its members`);
    // Commands: a team not configured for Mattermost, and someone from another team.
    const command = (text: string, extra: Record<string, string> = {}) =>
      fetch(`${url}/mattermost/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: MM_COMMAND_TOKEN, text, user_id: mmAlice, user_name: 'alice', channel_id: posChannel, channel_name: 'pos-oncall', team_id: mattermost.team.id, team_domain: 'ops', command: '/stacklens', ...extra }).toString(),
      }).then(async (r) => (await r.json()).text as string);
    expect(await command(`resolve ${id.support}`)).toContain('team support, which chat.teams does not configure for mattermost');
    expect(await command('incidents', { team_id: 'otherteam00000000000000000', team_domain: 'evil' })).toMatch(/^You are in no StackLens team on mattermost here/);
    expect(await command('incidents')).toContain(id.pos);
    expect(await status('pos')).toBe('open');

    // Alice, in her team and channel, with the button as posted.
    const ok = await click({});
    expect(ok.status).toBe(200);
    expect((await ok.json()).ephemeral_text).toBe(`${id.pos} acknowledged by alice (mattermost).`);
    expect(await status('pos')).toBe('acknowledged');

    const badButtons = await audited(url, started, 'auth.mattermost_action', (r) => r.stacklens.audit.target === id.pos, 2);
    expect(badButtons.map((r) => r.event.reason)).toEqual(expect.arrayContaining([expect.stringContaining('another channel'), expect.stringContaining('expired')]));
    const acts = await audited(url, started, 'incident.acknowledge', (r) => r.stacklens.audit.via === 'mattermost' && r.stacklens.audit.target === id.pos && r.event.outcome === 'success');
    expect(acts[0].user).toMatchObject({ id: mmAlice, name: 'alice' });
    const refusals = await audited(url, started, 'incident.acknowledge', (r) => r.stacklens.audit.via === 'mattermost' && r.event.outcome === 'failure', 3);
    expect(refusals.map((r) => r.user.id).sort()).toEqual([mmAlice, mmBob, mmBob].sort());
  });
});
