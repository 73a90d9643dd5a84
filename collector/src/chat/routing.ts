// Who hears about an incident, and who may act on it. An incident belongs to the team its
// rule names in `labels.team`; a team lists its channels (per platform, Slack workspace
// included) and, optionally, the people who may act. Team routes add channels by rule,
// severity or labels. Incidents of a team go to that team's channels only; incidents of no
// configured team go to the platform's default channel.
import type { Incident } from '@stacklens/detection';
import type { ChatConfig } from '../config.js';
import type { ChatPlatform } from './chat-store.js';

export interface Destination {
  platform: ChatPlatform;
  /** Slack team id ("" = the default workspace); Mattermost: "". */
  workspace: string;
  channel: string;
}

export interface Actor {
  platform: ChatPlatform;
  workspace: string;
  user_id: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
}

const bare = (c: string) => c.replace(/^[#@~]/, '');

export function teamOf(inc: Pick<Incident, 'labels'>): string | undefined {
  return inc.labels?.team;
}

/** The channels an incident is posted to, per the rule's notify list and the teams' routes. */
export function destinations(inc: Incident, chat: ChatConfig, defaults: Partial<Record<ChatPlatform, string>>): Destination[] {
  const out = new Map<string, Destination>();
  const add = (d: Destination) => out.set(`${d.platform}|${d.workspace}|${bare(d.channel)}`, d);
  const team = teamOf(inc);
  const teamCfg = team ? chat.teams[team] : undefined;
  for (const entry of inc.notify) {
    const [platform, explicit] = splitNotify(entry);
    if (platform !== 'slack' && platform !== 'mattermost') continue;
    const defaultChannel = defaults[platform];
    if (defaultChannel === undefined) continue; // platform not configured
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

/**
 * Undefined when `actor` may act on the incident, else why not. Members are the team's
 * listed users; a team that lists none trusts whoever acts from one of its channels.
 */
export function refusal(inc: Pick<Incident, 'labels' | 'id'>, chat: ChatConfig, actor: Actor): string | undefined {
  const team = teamOf(inc);
  if (!team || !chat.teams[team]) return undefined;
  const p = chat.teams[team][actor.platform];
  const who = actor.user_name ?? actor.user_id;
  if (!p) return `${who} may not act on ${inc.id}: team ${team} has no ${actor.platform} members`;
  if (actor.platform === 'slack' && p.workspace && actor.workspace !== p.workspace) return `${who} may not act on ${inc.id}: it belongs to team ${team} in another workspace`;
  if (p.users) {
    const member = p.users.some((u) => u === actor.user_id || bare(u) === actor.user_name);
    return member ? undefined : `${who} is not in team ${team}, which owns ${inc.id}`;
  }
  const inChannel = p.channels.some((c) => bare(c) === actor.channel_id || bare(c) === actor.channel_name);
  return inChannel ? undefined : `${who} may act on ${inc.id} only from team ${team}'s channels (${p.channels.join(', ')})`;
}
