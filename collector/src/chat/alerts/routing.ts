// Who hears about an incident, and who may act on it. An incident belongs to the team its
// rule names in `labels.team`; a team lists its channels (per platform, Slack workspace
// included) and, optionally, the people who may act. Team routes add channels by rule,
// severity or labels. Incidents of a team go to that team's channels only; incidents of no
// configured team go to the platform's default channel.
//
// Acting from chat fails closed: only incidents of a team configured in chat.teams for the
// platform can be acted on, and only by that team's members — the workspace (Slack team id,
// Mattermost team) is always compared, users by id only, channels by id wherever the
// platform can tell us a configured channel's id.
//
// In chat/alerts/ by its main job (destinations); mayAct and teamsOf serve chat/ops/.
import type { Incident } from '@stacklens/detection';
import type { ChatConfig } from '../../config.js';
import type { ChatPlatform } from '../capture/chat-store.js';
import { hasChannels, isChatPlatform, type ChatPlatformType } from '../../integrations/descriptors/index.js';

/**
 * Where alerts go: the integration types with chatAlerts (integrations/descriptors) — the chat
 * platforms, and post-only ones such as a Microsoft Teams incoming webhook (one channel, no routes).
 */
export type AlertPlatform = ChatPlatformType;

export interface Destination {
  /** An AlertPlatform: the integration type (a string here, so senders' types need not know the registry's). */
  platform: string;
  /** Slack team id ("" = the default workspace); Mattermost: "". */
  workspace: string;
  channel: string;
}

export interface Actor {
  platform: ChatPlatform;
  /** Slack: the team id the request came from; Mattermost: the team id. */
  workspace: string;
  /** Mattermost: the team name (team_domain). Slack's is not used (ids only). */
  workspace_name?: string;
  user_id: string;
  /** For display and the audit trail only: never compared. */
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  /** Where the request came from, for the audit trail. */
  origin?: { source?: string; requestId?: string };
}

/** What the chat platforms say about the configured workspaces and channels (chat/ops/directory.ts). */
export interface ChatDirectory {
  /** The Slack team id of the default workspace (auth.test of the default bot token); undefined when it cannot be known. */
  slackDefaultWorkspace(): Promise<string | undefined>;
  /** The configured Mattermost team (integrations.mattermost.team) and, when the bot can look it up, its id. */
  mattermostTeam(): Promise<{ name: string; id?: string } | undefined>;
  /**
   * A configured channel's id, looked up by name through the platform's API. `undefined`: the
   * platform says there is no such channel; `null`: nobody could ask (no bot token, API down).
   */
  channelId(platform: ChatPlatform, workspace: string, channel: string): Promise<string | undefined | null>;
}

const bare = (c: string) => c.replace(/^[#@~]/, '');

export function teamOf(inc: Pick<Incident, 'labels'>): string | undefined {
  return inc.labels?.team;
}

/** The channels an incident is posted to, per the rule's notify list and the teams' routes. */
export function destinations(inc: Incident, chat: ChatConfig, defaults: Partial<Record<AlertPlatform, string>>): Destination[] {
  const out = new Map<string, Destination>();
  const add = (d: Destination) => out.set(`${d.platform}|${d.workspace}|${bare(d.channel)}`, d);
  const team = teamOf(inc);
  const teamCfg = team ? chat.teams[team] : undefined;
  for (const entry of inc.notify) {
    const [platform, explicit] = splitNotify(entry);
    if (!isChatPlatform(platform)) continue; // not chat (jira)
    const defaultChannel = defaults[platform];
    if (defaultChannel === undefined) continue; // platform not configured
    if (!hasChannels(platform)) {
      // Bound to one channel (a Teams incoming webhook): no explicit channel, no team routes.
      add({ platform, workspace: '', channel: defaultChannel });
      continue;
    }
    if (platform !== 'slack' && platform !== 'mattermost') continue; // chat.teams routes these (ChatPlatform) only
    const platformTeam = teamCfg?.[platform];
    const workspace = platform === 'slack' ? (platformTeam?.workspace ?? '') : '';
    if (explicit) {
      add({ platform, workspace, channel: explicit });
      continue;
    }
    if (!teamCfg) {
      add({ platform, workspace: '', channel: defaultChannel });
      continue;
    }
    const route = teamCfg.routes.find((r) => routeMatches(r, inc) && r[platform]?.length);
    for (const channel of route?.[platform] ?? platformTeam?.channels ?? []) add({ platform, workspace, channel });
  }
  return [...out.values()];
}

function splitNotify(entry: string): [string, string | undefined] {
  const i = entry.indexOf(':');
  return i < 0 ? [entry, undefined] : [entry.slice(0, i), entry.slice(i + 1)];
}

function routeMatches(r: ChatConfig['teams'][string]['routes'][number], inc: Incident): boolean {
  if (r.rule && !r.rule.includes(inc.rule)) return false;
  if (r.severity && !r.severity.includes(inc.severity as never)) return false;
  for (const [k, v] of Object.entries(r.labels ?? {})) if (inc.labels?.[k] !== v) return false;
  return true;
}

/** A person as refusals name them: the display name they chose, and the id that counts. */
const who = (actor: Actor) => (actor.user_name && actor.user_name !== actor.user_id ? `${actor.user_name} (${actor.user_id || 'no id'})` : actor.user_id || 'someone');

/**
 * Undefined when `actor` may act on the incident, else why not. Incidents of no team, or of a
 * team chat.teams does not configure for the platform, cannot be acted on from chat at all:
 * nobody could say who their members are, so nobody is (fail closed).
 */
export async function mayAct(inc: Pick<Incident, 'labels' | 'id'>, chat: ChatConfig, actor: Actor, dir: ChatDirectory): Promise<string | undefined> {
  const team = teamOf(inc);
  if (!team) return `${inc.id} belongs to no team (its rule has no labels.team), so it cannot be changed from chat; use the StackLens API, or give the rule a team configured in chat.teams`;
  if (!chat.teams[team]?.[actor.platform]) return `${inc.id} belongs to team ${team}, which chat.teams does not configure for ${actor.platform}, so it cannot be changed from chat; use the StackLens API, or configure chat.teams.${team}.${actor.platform}`;
  const why = await notMember(team, chat, actor, dir);
  return why && `${who(actor)} may not act on ${inc.id} of team ${team}: ${why}`;
}

/** The configured teams `actor` is a member of (on the platform they are asking from). */
export async function teamsOf(chat: ChatConfig, actor: Actor, dir: ChatDirectory): Promise<string[]> {
  const mine: string[] = [];
  for (const team of Object.keys(chat.teams)) if (chat.teams[team][actor.platform] && !(await notMember(team, chat, actor, dir))) mine.push(team);
  return mine;
}

/** Undefined when `actor` is a member of `team` on their platform, else why not. */
async function notMember(team: string, chat: ChatConfig, actor: Actor, dir: ChatDirectory): Promise<string | undefined> {
  const p = chat.teams[team]?.[actor.platform];
  if (!p) return `the team has no ${actor.platform} members`;
  // 1. The workspace, always: a same-named channel or a same-id user elsewhere is someone else.
  let workspace = '';
  if (actor.platform === 'slack') {
    // A team without `workspace` lives in the default one, known only from the default bot
    // token (auth.test). Without it (webhook mode, Slack unreachable) nobody passes.
    const expected = p.workspace ?? (await dir.slackDefaultWorkspace());
    if (!expected) return `the default Slack workspace's id is unknown (no bot token, or auth.test failed); set chat.teams.${team}.slack.workspace`;
    if (actor.workspace !== expected) return 'that team is in another Slack workspace';
    workspace = p.workspace ?? '';
  } else {
    const expected = await dir.mattermostTeam();
    // Ids when the bot could look the team's up; else the team name Mattermost sends along.
    const same = expected && (expected.id ? actor.workspace === expected.id : Boolean(actor.workspace_name) && actor.workspace_name === expected.name);
    if (!same) return 'that team is in another Mattermost team';
  }
  // 2. The person, by platform user id only (a display name is anyone's to choose).
  if (p.users) return p.users.includes(actor.user_id) ? undefined : `${who(actor)} is not one of its members (chat.teams.${team}.${actor.platform}.users)`;
  // 3. Else the channel the request came from, by id: configured ids compare as they are,
  // names are looked up. Only when nobody can look them up (no bot token) are names compared
  // — inside the workspace checked above, where a channel name is unique.
  for (const c of p.channels) {
    if (bare(c) === actor.channel_id) return undefined;
    const id = await dir.channelId(actor.platform, workspace, c);
    if (id ? id === actor.channel_id : id === null && bare(c) === actor.channel_name) return undefined;
  }
  return `act from its channels (${p.channels.join(', ')})`;
}
