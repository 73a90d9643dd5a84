// Incident alerts in Slack and Mattermost, through the CLIs: the collector talks to local
// servers speaking the Slack Web API and Mattermost API v4 (test/fakes) through the real
// @slack/web-api and @mattermost/client; buttons are clicked as each platform sends them.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { incidentFingerprint, incidentId } from '@stacklens/detection';
import { esClient, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';
import { api, incidentsOf, missingPrice, missingPriceAnyRule, startStack, templateIdOf, testSecret } from './stack.js';
import { FakeSlack } from './fakes/slack-server.js';
import { FakeMattermost } from './fakes/mattermost-server.js';
import { FakeJira } from './fakes/jira-server.js';
import { FakeOpenAi } from './fakes/openai-server.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const running: (AgentHandle | CollectorHandle)[] = [];
const secret = testSecret;
const SLACK_TOKEN = secret('xoxb');
const SLACK_TOKEN_2 = secret('xoxb');
const SIGNING_SECRET = secret('signing');
const MM_TOKEN = secret('mmtoken');
const MM_COMMAND_TOKEN = secret('mmcommand');
const JIRA_TOKEN = secret('jira');
const OPENAI_KEY = secret('sk-test');
const slack = new FakeSlack(SLACK_TOKEN);
const mattermost = new FakeMattermost(MM_TOKEN);
const jira = new FakeJira('oncall@example.com', JIRA_TOKEN);
const llm = new FakeOpenAi(OPENAI_KEY);
const env = { SLACK_BOT_TOKEN_2: SLACK_TOKEN_2, SLACK_BOT_TOKEN: SLACK_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, MATTERMOST_BOT_TOKEN: MM_TOKEN, MATTERMOST_COMMAND_TOKEN: MM_COMMAND_TOKEN, JIRA_API_TOKEN: JIRA_TOKEN, OPENAI_API_KEY: OPENAI_KEY };

beforeAll(async () => {
  await slack.start();
  await mattermost.start();
  await jira.start();
  await llm.start();
  slack.addChannel('C0POSCRIT1', 'pos-critical');
  slack.addChannel('C0POSONCL1', 'pos-oncall');
  slack.addChannel('C0BOTONCL1', 'bot-oncall');
  slack.workspaces.set(SLACK_TOKEN_2, 'T0SECOND01');
  slack.users.set('U0ALICE001', 'alice');
  slack.users.set('U0BOB00001', 'bob');
});
afterAll(async () => {
  await slack.stop();
  await mattermost.stop();
  await jira.stop();
  await llm.stop();
});
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  slack.rateLimit.remaining = 0;
});

const rule = missingPriceAnyRule;

/**
 * Whether an incident's outbox work is done, as collector `c` sees it: some of its tasks ran,
 * and none is pending or running on `c`. A task a SIGKILLed collector had claimed stays
 * "running" until its lease runs out (a minute later): not waited for here.
 */
async function outboxIdle(c: CollectorHandle, incident: string): Promise<boolean> {
  await es.indices.refresh({ index: 'stacklens-outbox', ignore_unavailable: true });
  const done = await api(c, `/outbox?incident=${incident}&status=done&size=1`);
  const open = await api(c, `/outbox?incident=${incident}&status=pending,running&size=100`);
  return done.body.total > 0 && open.body.tasks.every((t: any) => t.status === 'running' && t.claimed_by !== open.body.collector.id);
}

const chatConfig = (teams = '') => `integrations:
  slack:
    bot_token: \${SLACK_BOT_TOKEN}
    signing_secret: \${SLACK_SIGNING_SECRET}
    api_url: ${slack.url}/api/
    channel: "#oncall"
    workspaces:
      T0SECOND01:
        bot_token: \${SLACK_BOT_TOKEN_2}
  mattermost:
    url: ${mattermost.url}
    token: \${MATTERMOST_BOT_TOKEN}
    team: ops
    channel: oncall
    command_token: \${MATTERMOST_COMMAND_TOKEN}
    callback_url: http://stacklens.example:8080
    index_messages: false
  jira:
    url: ${jira.url}
    email: oncall@example.com
    api_token: \${JIRA_API_TOKEN}
    project: OPS
  openai:
    base_url: ${llm.url}
    api_key: \${OPENAI_API_KEY}
    timeout: 5s
outbox:
  retry_budget: 2m
${teams}`;

/** Team ops, in the default channels: acting from chat needs a team configured in chat.teams. */
const opsTeam = `chat:
  teams:
    ops:
      slack: { channels: ["#oncall"] }
      mattermost: { channels: [oncall] }
`;

const slackAlertFor = (id: string, channel = 'C0ONCALL01') => slack.posts(channel).filter((m) => m.metadata?.event_payload?.incident_id === id);
const mattermostAlertFor = (id: string) => mattermost.botPosts().filter((p) => p.props.stacklens_incident === id);
const blockText = (m: { blocks?: any[] }) => JSON.stringify(m.blocks ?? []);

describe('chat alerts', () => {
  it('one alert per incident in Slack and Mattermost, updated in place and threaded as it is triaged, ticketed, acknowledged and resolved', async () => {
    const s = await startStack(esUrl, running, { 'r.yml': rule('chat-missing-price', 'labels: { team: ops, error_type: MISSING_PRICE }\nnotify: [jira, slack, mattermost]') }, { extra: chatConfig(opsTeam), env });
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store, 999)]);
    const inc = await waitFor('the incident, triaged and ticketed', async () => (await incidentsOf(es, s.ns)).find((i) => i.ticket && i.triage), 30_000);
    // Posted once in each, then edited with the AI root cause and the Jira link.
    const message = await waitFor('the Slack alert with analysis and ticket', async () => {
      const [m] = slackAlertFor(inc.id);
      return m && blockText(m).includes(inc.ticket.key) && blockText(m).includes('AI root cause') ? m : undefined;
    }, 30_000);
    const text = blockText(message);
    for (const part of ['[CRITICAL] MISSING_PRICE: Product #999 has no price', `*Store*\\n${store}`, '*Events*\\n1', 'confidence 86%', 'Product 999 has no price in the POS master data', 'Set the price of product 999', `${jira.url}/browse/${inc.ticket.key}`, 'stacklens_ack', 'stacklens_resolve', 'stacklens_silence']) {
      expect(text).toContain(part);
    }
    expect(text).not.toContain('stacklens_ticket'); // it has one already
    expect(message.text).toContain(inc.ticket.key); // notification fallback
    const post = await waitFor('the Mattermost alert with the ticket', async () => {
      const [p] = mattermostAlertFor(inc.id);
      return p && JSON.stringify(p.props).includes(inc.ticket.key) ? p : undefined;
    }, 30_000);
    const attachment = post.props.attachments[0];
    expect(attachment.title).toContain('MISSING_PRICE: Product #999 has no price');
    expect(attachment.color).toBe('#d62728');
    expect(attachment.fields).toContainEqual({ title: 'Store', value: store, short: true });
    expect(attachment.actions.map((a: any) => a.id)).toEqual(['ack', 'resolve', 'silence']);
    expect(attachment.actions[0].integration.url).toBe('http://stacklens.example:8080/mattermost/actions');
    // The incident records where its alerts are.
    const recorded = (await incidentsOf(es, s.ns))[0];
    expect(recorded.chat.messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ platform: 'slack', channel: '#oncall', channel_id: 'C0ONCALL01', message_id: message.ts }),
        expect.objectContaining({ platform: 'mattermost', channel: 'oncall', message_id: post.id }),
      ]),
    );
    await waitFor('the thread tells of the ticket', async () => slack.replies(message.ts).some((r) => r.text.includes(inc.ticket.key)), 20_000);

    // A collector killed and restarted posts nothing twice.
    await s.collectors[0].stop('SIGKILL');
    await s.collectors[0].restart();
    s.log.append(Array.from({ length: 20 }, () => missingPrice(store)));
    await waitFor('the 20 more counted', async () => (await incidentsOf(es, s.ns))[0]?.count === 21, 30_000, 300);

    // Acknowledge in Slack: the person is recorded, the message changes, the thread says so.
    const click = await slack.click(s.collectors[0].url, SIGNING_SECRET, message, 'stacklens_ack', { id: 'U0ALICE001', username: 'alice' });
    expect(click.status).toBe(200);
    const acked = await waitFor('acknowledged', async () => (await incidentsOf(es, s.ns)).find((i) => i.status === 'acknowledged'));
    expect(acked.acknowledged_by).toBe('alice (slack)');
    expect(acked.timeline).toContainEqual(expect.objectContaining({ stage: 'acknowledged', by: 'alice (slack)' }));
    await waitFor('the Slack message shows it', async () => blockText(slackAlertFor(inc.id)[0]).includes('acknowledged (by alice (slack))'), 20_000);
    await waitFor('the Slack thread says it', async () => slack.replies(message.ts).some((r) => r.text === 'Acknowledged by alice (slack)'), 20_000);
    await waitFor('the person who clicked is told', async () => slack.responses.some((r) => r.body.text?.includes('acknowledged by alice (slack)') && r.body.response_type === 'ephemeral'), 10_000);

    // Resolve from Mattermost's button: Mattermost posts the signed context back.
    const resolve = attachment.actions.find((a: any) => a.id === 'resolve');
    const answer = await fetch(`${s.collectors[0].url}/mattermost/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'mmuser1', user_name: 'bob', channel_id: post.channel_id, team_id: mattermost.team.id, post_id: post.id, type: 'button', context: resolve.integration.context }),
    });
    expect(answer.status).toBe(200);
    expect((await answer.json()).ephemeral_text).toContain('resolved by bob (mattermost)');
    await waitFor('the Mattermost post shows it', async () => JSON.stringify(mattermostAlertFor(inc.id)[0].props).includes('resolved (by bob (mattermost))'), 20_000);
    await waitFor('the Mattermost thread says it', async () => mattermost.replies(post.id).some((r) => r.message === 'Resolved by bob (mattermost)'), 20_000);
    // A resolved alert has no buttons left.
    await waitFor('buttons gone in Slack', async () => !blockText(slackAlertFor(inc.id)[0]).includes('stacklens_ack'), 20_000);

    // A forged button (context not signed by us) does nothing.
    const forged = await fetch(`${s.collectors[0].url}/mattermost/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: 'x', context: { ...resolve.integration.context, action: 'ack' } }),
    });
    expect(forged.status).toBe(401);

    // Every post, update and ticket task of the incident has run here: a doubled one would show now.
    await waitFor('the incident\'s outbox idle', async () => outboxIdle(s.collectors[0], inc.id), 30_000, 300);
    expect(slackAlertFor(inc.id)).toHaveLength(1);
    expect(mattermostAlertFor(inc.id)).toHaveLength(1);
    expect(jira.issues.filter((i) => i.fields.summary.endsWith(`(${store})`))).toHaveLength(1);
  });

  it('Slack rate limits delay the alert but deliver it once; a post a crashed attempt left is found, not doubled', async () => {
    const s = await startStack(esUrl, running, { 'r.yml': rule('chat-rate-limited', 'labels: { team: ops }\nnotify: [slack]') }, { extra: chatConfig(opsTeam), env });
    const store = `STORE_${s.ns}`;
    // The incident id is known in advance: a previous attempt "posted" it and died before recording.
    const line = missingPrice(`${store}_B`, 999);
    const fp = incidentFingerprint('chat-rate-limited', `logs-pos-${s.ns}`, { 'pos.store_id': `${store}_B` }, templateIdOf('pos', 'Product #999 has no price'));
    const leftover = { ts: slack.nextTs(), channel: 'C0ONCALL01', text: 'left by a crash', metadata: { event_type: 'stacklens_incident', event_payload: { incident_id: incidentId(fp) } }, user: 'UBOT000001', bot_id: 'B0STACKLNS', updates: 0 };
    slack.messages.push(leftover);

    slack.rateLimit = { remaining: 3, retryAfter: 1 };
    s.log.append([missingPrice(store, 999), line]);
    const incs = await waitFor('two incidents', async () => {
      const all = await incidentsOf(es, s.ns);
      return all.length === 2 && all.every((i) => i.chat?.messages?.length === 1) ? all : undefined;
    }, 60_000, 300);
    const a = incs.find((i) => i.group_key.endsWith(store))!;
    const b = incs.find((i) => i.group_key.endsWith(`${store}_B`))!;
    expect(b.id).toBe(incidentId(fp));
    expect(slackAlertFor(a.id)).toHaveLength(1);
    // The first attempts met 429s; the retry found the leftover post and adopted it.
    expect(slackAlertFor(b.id)).toEqual([expect.objectContaining({ ts: leftover.ts })]);
    expect(b.chat.messages[0].message_id).toBe(leftover.ts);
    expect(slack.calls.filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(3);
    const postTask = await waitFor('the post task done', async () => {
      const outbox = await (await fetch(`${s.collectors[0].url}/api/outbox?incident=${b.id}`, { headers: { authorization: 'Bearer admin-token-for-tests-0001' } })).json();
      return outbox.tasks.find((t: any) => t.action === 'chat_post' && t.status === 'done');
    });
    expect(postTask.result).toMatchObject({ found: true, message: leftover.ts });
    expect(postTask.attempts).toBeGreaterThan(1);

    // "Create ticket" files the Jira ticket now (the rule does not notify Jira) and the alert links it.
    const alertA = await waitFor('buttons on the alert', async () => slackAlertFor(a.id).find((m) => blockText(m).includes('stacklens_ticket')));
    await slack.click(s.collectors[0].url, SIGNING_SECRET, alertA, 'stacklens_ticket', { id: 'U0ALICE001', username: 'alice' });
    const ticket = await waitFor('the ticket', async () => jira.issues.find((i) => i.fields.summary.endsWith(`(${store})`)), 30_000);
    await waitFor('the alert links it', async () => blockText(slackAlertFor(a.id)[0]).includes(ticket.key), 30_000);
    expect((await incidentsOf(es, s.ns)).find((i) => i.id === a.id).timeline).toContainEqual(expect.objectContaining({ stage: 'ticket_pending', by: 'alice (slack)' }));

    // "Silence 1 h" silences the rule for that store, recorded with who did it.
    const alertB = await waitFor('buttons on the adopted alert', async () => slackAlertFor(b.id).find((m) => blockText(m).includes('stacklens_silence')), 30_000);
    await slack.click(s.collectors[0].url, SIGNING_SECRET, alertB, 'stacklens_silence', { id: 'U0ALICE001', username: 'alice' });
    const silence = await waitFor('the silence', async () => {
      const res = await (await fetch(`${s.collectors[0].url}/api/silences`, { headers: { authorization: 'Bearer admin-token-for-tests-0001' } })).json();
      return res.silences.find((x: any) => x.rule === 'chat-rate-limited' && x.group_key === b.group_key);
    });
    expect(silence.created_by).toBe('alice (slack)');
    expect(Date.parse(silence.ends_at) - Date.parse(silence.starts_at)).toBe(3_600_000);
    await waitFor('the thread tells of the silence', async () => slack.replies(alertB.ts).some((r) => r.text.startsWith('Silenced by alice (slack)')), 20_000);
  });

  it('routes by team, severity and rule; only the team acts; each team lists its own incidents', async () => {
    const teams = `chat:
  teams:
    pos:
      slack: { channels: ["#pos-oncall"], users: [U0ALICE001] }
      routes:
        - { severity: critical, slack: "#pos-critical" }
    chatbot:
      slack: { workspace: T0SECOND01, channels: ["#bot-oncall"] }
`;
    const s = await startStack(
      esUrl,
      running,
      {
        'pos.yml': rule('route-pos', 'labels: { team: pos }\nnotify: [slack]'),
        'bot.yml': rule('route-bot', 'labels: { team: chatbot }\nnotify: [slack]').replace('severity: critical', 'severity: high'),
        'none.yml': rule('route-none', 'notify: [slack]').replace('severity: critical', 'severity: low'),
      },
      { extra: chatConfig(teams), env },
    );
    s.log.append([missingPrice(`STORE_${s.ns}`, 999)]);
    const incs = await waitFor('three incidents posted', async () => {
      const all = await incidentsOf(es, s.ns);
      return all.length === 3 && all.every((i) => i.chat?.messages?.length) ? all : undefined;
    }, 30_000, 300);
    const byRule = Object.fromEntries(incs.map((i) => [i.rule, i]));
    const channelsOf = (i: any) => i.chat.messages.map((m: any) => m.channel_id);
    expect(channelsOf(byRule['route-pos'])).toEqual(['C0POSCRIT1']); // the critical route, not the team's default
    expect(channelsOf(byRule['route-bot'])).toEqual(['C0BOTONCL1']);
    expect(channelsOf(byRule['route-none'])).toEqual(['C0ONCALL01']); // no team: the default channel
    const posAlert = slackAlertFor(byRule['route-pos'].id, 'C0POSCRIT1')[0];
    // The chat-bot team lives in another workspace: its alert went out with that workspace's token.
    const botAlert = slackAlertFor(byRule['route-bot'].id, 'C0BOTONCL1')[0];
    expect(botAlert.team).toBe('T0SECOND01');
    expect(posAlert.team).toBe(slack.teamId);
    expect(byRule['route-bot'].chat.messages[0].workspace).toBe('T0SECOND01');

    // Bob is not in team pos: his click is refused and changes nothing.
    await slack.click(s.collectors[0].url, SIGNING_SECRET, posAlert, 'stacklens_ack', { id: 'U0BOB00001', username: 'bob' });
    await waitFor('bob is told no', async () => slack.responses.some((r) => r.body.text?.includes(`bob (U0BOB00001) may not act on ${byRule['route-pos'].id} of team pos: bob (U0BOB00001) is not one of its members`)), 10_000);
    expect((await incidentsOf(es, s.ns)).find((i) => i.rule === 'route-pos').status).toBe('open');
    // Alice is.
    await slack.click(s.collectors[0].url, SIGNING_SECRET, posAlert, 'stacklens_ack', { id: 'U0ALICE001', username: 'alice' });
    await waitFor('alice acknowledged', async () => (await incidentsOf(es, s.ns)).find((i) => i.rule === 'route-pos').status === 'acknowledged');

    // Someone in the first workspace cannot act on the other workspace's incident.
    await slack.click(s.collectors[0].url, SIGNING_SECRET, botAlert, 'stacklens_ack', { id: 'U0ALICE001', username: 'alice' });
    await waitFor('alice is told no', async () => slack.responses.some((r) => r.body.text?.includes(`may not act on ${byRule['route-bot'].id} of team chatbot: that team is in another Slack workspace`)), 10_000);
    // Nor on an incident of no team: nobody acts on those from chat.
    const noneAlert = slackAlertFor(byRule['route-none'].id)[0];
    await slack.click(s.collectors[0].url, SIGNING_SECRET, noneAlert, 'stacklens_ack', { id: 'U0ALICE001', username: 'alice' });
    await waitFor('no-team refused', async () => slack.responses.some((r) => r.body.text?.includes(`${byRule['route-none'].id} belongs to no team`)), 10_000);
    expect((await incidentsOf(es, s.ns)).find((i) => i.rule === 'route-none').status).toBe('open');

    // /stacklens incidents from the chat-bot channel lists the chat-bot team's incident, not the POS one.
    const res = await slack.command(s.collectors[0].url, SIGNING_SECRET, { text: 'incidents', user_id: 'U0BOB00001', user_name: 'bob', channel_id: 'C0BOTONCL1', channel_name: 'bot-oncall', team_id: 'T0SECOND01' });
    const listed = (await res.json()).text as string;
    expect(listed).toContain(byRule['route-bot'].id);
    expect(listed).not.toContain(byRule['route-pos'].id);
  });

  it('incoming-webhook mode posts alerts and each lifecycle change, for teams that want no bot token', async () => {
    const hooks = `integrations:
  slack:
    webhook_url: \${SLACK_WEBHOOK_URL}
  mattermost:
    url: ${mattermost.url}
    team: ops
    webhook_url: \${MATTERMOST_WEBHOOK_URL}
`;
    const hookEnv = { SLACK_WEBHOOK_URL: `${slack.url}/response/slackhook`, MATTERMOST_WEBHOOK_URL: `${slack.url}/response/mmhook` };
    const s = await startStack(esUrl, running, { 'r.yml': rule('hook-missing-price', 'notify: [slack, mattermost]') }, { extra: hooks, env: hookEnv });
    const store = `STORE_${s.ns}`;
    s.log.append([missingPrice(store, 999)]);
    const mine = (id: string) => slack.responses.filter((r) => r.id === id && JSON.stringify(r.body).includes(store));
    // The alert itself (Block Kit / an attachment); the lifecycle messages after it are plain text — and
    // name the store too, since an incident's summary says where.
    const alerts = (id: string) => mine(id).filter((r) => (id === 'slackhook' ? Array.isArray(r.body.blocks) : Array.isArray(r.body.attachments)));
    await waitFor('both alerts', async () => alerts('slackhook').length >= 1 && alerts('mmhook').length >= 1, 60_000);
    expect(JSON.stringify(alerts('slackhook')[0].body.blocks)).toContain('MISSING_PRICE: Product #999 has no price');
    expect(alerts('mmhook')[0].body).toMatchObject({ channel: 'oncall', attachments: [expect.objectContaining({ title: expect.stringContaining('MISSING_PRICE') })] });
    const [inc] = await incidentsOf(es, s.ns);
    const resolved = await fetch(`${s.collectors[0].url}/api/incidents/${inc.id}/resolve`, { method: 'POST', headers: { authorization: 'Bearer admin-token-for-tests-0001', 'content-type': 'application/json' }, body: JSON.stringify({ by: 'frank' }) });
    expect(resolved.status).toBe(200);
    // Webhooks cannot edit: the change arrives as a new message naming the incident.
    await waitFor('the resolve told in both', async () => {
      // The summary as each platform shows it (Slack escapes its < > &; Mattermost does not).
      const told = (id: string) => slack.responses.some((r) => r.id === id && typeof r.body.text === 'string' && r.body.text.startsWith(`${inc.id} (`) && r.body.text.endsWith('): Resolved by frank') && r.body.text.includes('has no price'));
      return told('slackhook') && told('mmhook');
    }, 30_000);
    // One alert each, whatever followed it.
    expect(alerts('slackhook')).toHaveLength(1);
    expect(alerts('mmhook')).toHaveLength(1);
  });
});
