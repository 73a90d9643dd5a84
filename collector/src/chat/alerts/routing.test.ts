import { describe, expect, it } from 'vitest';
import { chatSchema } from '../../config.js';
import type { Incident } from '@stacklens/detection';
import { destinations, mayAct, teamsOf, type Actor, type ChatDirectory } from './routing.js';

const chat = chatSchema.parse({
  teams: {
    pos: { slack: { channels: ['#pos-oncall'], users: ['U0ALICE001'] }, mattermost: { channels: ['pos-oncall'], users: ['mmalice'] } },
    support: { slack: { channels: ['#support', 'C0SUPPORT2'] }, mattermost: { channels: ['support'] } },
    bot: { slack: { workspace: 'T0SECOND01', channels: ['#bot-oncall'] } },
  },
});

/** The platforms as the bot tokens would tell: default workspace T0DEFAULT1, Mattermost team ops (id teamid). */
const directory = (over: Partial<ChatDirectory> = {}): ChatDirectory => ({
  slackDefaultWorkspace: async () => 'T0DEFAULT1',
  mattermostTeam: async () => ({ name: 'ops', id: 'teamid' }),
  channelId: async (_p, workspace, channel) => ({ '|#pos-oncall': 'C0POSONCL1', '|#support': 'C0SUPPORT1', 'T0SECOND01|#bot-oncall': 'C0BOTONCL1', '|support': 'mmsupport', '|pos-oncall': 'mmposoncall' })[`${workspace}|${channel}`],
  ...over,
});

const slack = (over: Partial<Actor> = {}): Actor => ({ platform: 'slack', workspace: 'T0DEFAULT1', user_id: 'U0ALICE001', user_name: 'alice', channel_id: 'C0POSONCL1', channel_name: 'pos-oncall', ...over });
const mm = (over: Partial<Actor> = {}): Actor => ({ platform: 'mattermost', workspace: 'teamid', workspace_name: 'ops', user_id: 'mmalice', user_name: 'alice', channel_id: 'mmposoncall', channel_name: 'pos-oncall', ...over });
const inc = (team?: string) => ({ id: 'inc1', labels: team ? { team } : {} });

describe('mayAct: chat actions fail closed', () => {
  it('lets the team act: its user by id, in its workspace', async () => {
    expect(await mayAct(inc('pos'), chat, slack(), directory())).toBeUndefined();
    expect(await mayAct(inc('pos'), chat, mm(), directory())).toBeUndefined();
    expect(await mayAct(inc('bot'), chat, slack({ workspace: 'T0SECOND01', channel_id: 'C0BOTONCL1' }), directory())).toBeUndefined();
  });

  it('refuses incidents of no team, or of a team not configured for the platform', async () => {
    expect(await mayAct(inc(), chat, slack(), directory())).toMatch(/belongs to no team .* use the StackLens API/);
    expect(await mayAct(inc('payments'), chat, slack(), directory())).toMatch(/team payments, which chat.teams does not configure for slack, .* use the StackLens API, or configure chat.teams.payments.slack/);
    expect(await mayAct(inc('bot'), chat, mm(), directory())).toMatch(/does not configure for mattermost/);
  });

  it('always compares the workspace: the same user id or channel name elsewhere is someone else', async () => {
    expect(await mayAct(inc('pos'), chat, slack({ workspace: 'T0EVIL0001' }), directory())).toMatch(/in another Slack workspace/);
    expect(await mayAct(inc('bot'), chat, slack({ workspace: 'T0DEFAULT1', channel_id: 'C0BOTONCL1' }), directory())).toMatch(/in another Slack workspace/);
    expect(await mayAct(inc('pos'), chat, mm({ workspace: 'otherteam', workspace_name: 'ops' }), directory())).toMatch(/in another Mattermost team/);
    // Without the Mattermost team id, its name (team_domain) is compared; without either, nobody passes.
    const byName = directory({ mattermostTeam: async () => ({ name: 'ops' }) });
    expect(await mayAct(inc('pos'), chat, mm({ workspace: 'x' }), byName)).toBeUndefined();
    expect(await mayAct(inc('pos'), chat, mm({ workspace_name: 'evil' }), byName)).toMatch(/another Mattermost team/);
    expect(await mayAct(inc('pos'), chat, mm({ workspace_name: undefined }), byName)).toMatch(/another Mattermost team/);
  });

  it('refuses every team of the default workspace while its id is unknown', async () => {
    const unknown = directory({ slackDefaultWorkspace: async () => undefined });
    expect(await mayAct(inc('pos'), chat, slack(), unknown)).toMatch(/default Slack workspace's id is unknown .* set chat.teams.pos.slack.workspace/);
    expect(await mayAct(inc('pos'), chat, slack({ workspace: '' }), unknown)).toMatch(/unknown/);
    // A team that names its workspace needs no lookup.
    expect(await mayAct(inc('bot'), chat, slack({ workspace: 'T0SECOND01', channel_id: 'C0BOTONCL1' }), unknown)).toBeUndefined();
  });

  it('compares users by id only', async () => {
    expect(await mayAct(inc('pos'), chat, slack({ user_id: 'U0MALLORY1', user_name: 'U0ALICE001' }), directory())).toMatch(/U0ALICE001 \(U0MALLORY1\) is not one of its members/);
    expect(await mayAct(inc('pos'), chat, mm({ user_id: 'mmmallory', user_name: 'mmalice' }), directory())).toMatch(/not one of its members/);
  });

  it('compares channels by id where the platform tells it, by name only where nobody can ask', async () => {
    expect(await mayAct(inc('support'), chat, slack({ user_id: 'U0BOB00001', channel_id: 'C0SUPPORT1', channel_name: 'support' }), directory())).toBeUndefined();
    expect(await mayAct(inc('support'), chat, slack({ user_id: 'U0BOB00001', channel_id: 'C0SUPPORT2', channel_name: 'whatever' }), directory())).toBeUndefined(); // configured by id
    // A channel named "support" that is not the one configured.
    expect(await mayAct(inc('support'), chat, slack({ user_id: 'U0BOB00001', channel_id: 'C0IMPOSTR1', channel_name: 'support' }), directory())).toMatch(/act from its channels/);
    expect(await mayAct(inc('support'), chat, mm({ user_id: 'mmbob', channel_id: 'mmimpostor', channel_name: 'support' }), directory())).toMatch(/act from its channels/);
    // Nobody to ask (null): the name, inside the workspace already checked.
    const blind = directory({ channelId: async () => null });
    expect(await mayAct(inc('support'), chat, slack({ user_id: 'U0BOB00001', channel_id: 'C0ANY00001', channel_name: 'support' }), blind)).toBeUndefined();
    expect(await mayAct(inc('support'), chat, slack({ user_id: 'U0BOB00001', workspace: 'T0EVIL0001', channel_id: 'C0ANY00001', channel_name: 'support' }), blind)).toMatch(/another Slack workspace/);
  });

  it('teamsOf lists the teams someone belongs to on their platform', async () => {
    expect(await teamsOf(chat, slack(), directory())).toEqual(['pos']);
    expect(await teamsOf(chat, slack({ channel_id: 'C0SUPPORT1' }), directory())).toEqual(['pos', 'support']);
    expect(await teamsOf(chat, slack({ workspace: 'T0SECOND01', channel_id: 'C0BOTONCL1' }), directory())).toEqual(['bot']);
    expect(await teamsOf(chat, slack({ workspace: 'T0EVIL0001' }), directory())).toEqual([]);
    expect(await teamsOf(chat, mm({ channel_id: 'mmsupport' }), directory())).toEqual(['pos', 'support']);
  });
});

describe('destinations: where an incident is posted', () => {
  const routed = chatSchema.parse({
    teams: {
      pos: {
        slack: { channels: ['#pos-oncall', 'pos-leads'] },
        mattermost: { channels: ['pos-oncall'] },
        routes: [
          { severity: 'low', slack: '#pos-low' },
          { rule: ['pos-payment-failed'], labels: { region: 'eu' }, slack: ['#payments-eu'], mattermost: 'payments-eu' },
          { severity: ['critical', 'high'], mattermost: ['pos-urgent'] },
        ],
      },
      bot: { slack: { workspace: 'T0SECOND01', channels: ['#bot-oncall'] } },
    },
  });
  const defaults = { slack: '#alerts', mattermost: 'town-square' };
  const incident = (over: { rule?: string; severity?: string; labels?: Record<string, string>; notify: string[] }) => ({ rule: 'pos-missing-price', severity: 'critical', labels: {}, ...over }) as unknown as Incident;
  const where = (over: Parameters<typeof incident>[0], d: Partial<typeof defaults> = defaults) => destinations(incident(over), routed, d).map((x) => `${x.platform}|${x.workspace}|${x.channel}`);

  it("an incident of no configured team goes to each platform's default channel; jira and unconfigured platforms are not chat", () => {
    expect(where({ notify: ['slack', 'mattermost', 'jira'] })).toEqual(['slack||#alerts', 'mattermost||town-square']);
    expect(where({ labels: { team: 'payments' }, notify: ['slack'] })).toEqual(['slack||#alerts']);
    expect(where({ notify: ['slack', 'mattermost'] }, { slack: '#alerts' })).toEqual(['slack||#alerts']);
    expect(where({ notify: ['jira'] })).toEqual([]);
    expect(where({ notify: [] })).toEqual([]);
  });

  it("a team's incident goes to that team's channels only, in the team's workspace", () => {
    expect(where({ labels: { team: 'pos' }, severity: 'medium', notify: ['slack', 'mattermost'] })).toEqual(['slack||#pos-oncall', 'slack||pos-leads', 'mattermost||pos-oncall']);
    expect(where({ labels: { team: 'bot' }, notify: ['slack'] })).toEqual(['slack|T0SECOND01|#bot-oncall']);
    // The team has no Mattermost channels: not the default channel either.
    expect(where({ labels: { team: 'bot' }, notify: ['mattermost'] })).toEqual([]);
  });

  it('the first matching route with channels for the platform replaces the team channels; a route matches on every condition it names', () => {
    expect(where({ labels: { team: 'pos' }, severity: 'low', notify: ['slack', 'mattermost'] })).toEqual(['slack||#pos-low', 'mattermost||pos-oncall']);
    expect(where({ labels: { team: 'pos', region: 'eu' }, rule: 'pos-payment-failed', severity: 'high', notify: ['slack', 'mattermost'] })).toEqual(['slack||#payments-eu', 'mattermost||payments-eu']);
    // Per platform: the low-severity route has no Mattermost channels, so the next matching route gives them.
    expect(where({ labels: { team: 'pos', region: 'eu' }, rule: 'pos-payment-failed', severity: 'low', notify: ['slack', 'mattermost'] })).toEqual(['slack||#pos-low', 'mattermost||payments-eu']);
    // Same rule, another region: not the payments route; the urgent one for Mattermost, the team's Slack channels.
    expect(where({ labels: { team: 'pos', region: 'us' }, rule: 'pos-payment-failed', severity: 'high', notify: ['slack', 'mattermost'] })).toEqual(['slack||#pos-oncall', 'slack||pos-leads', 'mattermost||pos-urgent']);
  });

  it('an explicit channel (slack:#x) is used as given, in the team workspace, and channels are posted to once', () => {
    expect(where({ labels: { team: 'bot' }, notify: ['slack:#bot-war-room'] })).toEqual(['slack|T0SECOND01|#bot-war-room']);
    // One post per channel however it is spelt (#alerts, alerts; ~town-square, town-square).
    const once = where({ notify: ['slack:#alerts', 'slack', 'slack:alerts', 'mattermost:~town-square', 'mattermost'] });
    expect(once.map((d) => d.replace(/\|[#~@]/, '|'))).toEqual(['slack||alerts', 'mattermost||town-square']);
    expect(where({ labels: { team: 'pos' }, severity: 'medium', notify: ['slack', 'slack:#pos-oncall'] })).toEqual(['slack||#pos-oncall', 'slack||pos-leads']);
    // An explicit channel of a platform that is not configured goes nowhere.
    expect(where({ notify: ['mattermost:ops'] }, { slack: '#alerts' })).toEqual([]);
  });
});
