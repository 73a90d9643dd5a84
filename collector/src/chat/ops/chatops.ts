// ChatOps, the same for Slack and Mattermost: `/stacklens <command>` and the alert buttons.
// Every change records who made it (incident timeline and audit trail), and only the
// incident's team acts (alerts/routing.ts mayAct). Answers are scoped to the asker's teams: their
// incidents, their channels' messages and their datasets — a person in no team gets none.
import type { Client } from '@elastic/elasticsearch';
import { parseDuration, type Logger } from '@stacklens/common';
import { addTimeline, type Incident, type RuleEngine } from '@stacklens/detection';
import type { Notifier } from '../../integrations/notifier.js';
import type { CollectorMetrics } from '../../metrics.js';
import type { ChatConfig } from '../../config.js';
import { changeIncident } from '../../incident-actions.js';
import { search } from '../../search.js';
import type { AuditCategory, AuditLog } from '../../security/audit.js';
import { dataScope } from '../../security/team-scope.js';
import { chatStats } from './stats.js';
import { mayAct, teamsOf, type Actor, type ChatDirectory } from '../alerts/routing.js';
import { PlatformDirectory, type DirectorySources } from './directory.js';
import type { ChatAction } from '../alerts/render.js';

export interface ChatOpsDeps {
  es: Client;
  engine: RuleEngine;
  notifier?: Notifier;
  metrics?: CollectorMetrics;
  chat: () => ChatConfig;
  /** The current Slack and Mattermost senders: workspace and channel ids come from them (directory.ts). */
  platforms?: () => DirectorySources;
  /** Or those ids from elsewhere (tests). */
  directory?: ChatDirectory;
  audit?: AuditLog;
  log?: Logger;
}

export interface Reply {
  text: string;
  /** Shown to the whole channel (default: only to the person who asked). */
  inChannel?: boolean;
}

export const USAGE = [
  '/stacklens search <words> [in:#channel] [from:@user] [since:1h]',
  '/stacklens incidents',
  '/stacklens ack <incident id>',
  '/stacklens resolve <incident id>',
  '/stacklens stats',
].join('\n');

const SILENCE_MS = 3_600_000;
const LISTED = 15;
const UNKNOWN_WORKSPACE = 'stacklens:unknown-workspace';
/** The audit trail's names for the chat actions (the API's names where it has them). */
const AUDIT_ACTION: Record<ChatAction, string> = { ack: 'incident.acknowledge', resolve: 'incident.resolve', ticket: 'incident.ticket', silence: 'incident.silence' };
const NO_TEAM = (actor: Actor) =>
  `You are in no StackLens team on ${actor.platform} here, so StackLens shows you nothing. A team (chat.teams in collector.yaml) names its ${actor.platform === 'slack' ? 'workspace, ' : ''}channels and, optionally, its members' user ids.`;

export class ChatOps {
  private readonly directory: ChatDirectory;

  constructor(private readonly deps: ChatOpsDeps) {
    this.directory = deps.directory ?? new PlatformDirectory(deps.platforms ?? (() => ({})), deps.log);
  }

  async command(actor: Actor, text: string): Promise<Reply> {
    const [verb = '', ...args] = text.trim().split(/\s+/).filter(Boolean);
    switch (verb.toLowerCase()) {
      case 'search':
        return this.search(actor, args);
      case 'incidents':
        return this.incidents(actor);
      case 'ack':
      case 'acknowledge':
        return args[0] ? this.act(actor, args[0], 'ack') : { text: 'Usage: /stacklens ack <incident id>' };
      case 'resolve':
        return args[0] ? this.act(actor, args[0], 'resolve') : { text: 'Usage: /stacklens resolve <incident id>' };
      case 'stats':
        return this.stats(actor);
      case '':
      case 'help':
        return { text: `StackLens commands:\n${USAGE}` };
      default:
        return { text: `Unknown command "${verb}". StackLens commands:\n${USAGE}` };
    }
  }

  /** A button or a command acting on one incident. */
  async act(actor: Actor, id: string, action: ChatAction): Promise<Reply> {
    const audit = (outcome: 'success' | 'failure', reason?: string, category: AuditCategory = 'incident') => this.record(actor, { action: AUDIT_ACTION[action], category, outcome, target: id, reason });
    try {
      const found = await this.deps.engine.incidents.get(id);
      if (!found) {
        audit('failure', `no incident ${id}`);
        return { text: `No incident ${id}.` };
      }
      const refused = await mayAct(found.incident, this.deps.chat(), actor, this.directory);
      if (refused) {
        audit('failure', refused, 'authorization');
        return { text: `Not allowed: ${refused}.` };
      }
      const by = `${actor.user_name || actor.user_id} (${actor.platform})`;
      if (action === 'ack' || action === 'resolve') {
        const outcome = await changeIncident(this.deps, id, action === 'ack' ? 'acknowledge' : 'resolve', by);
        if (outcome.kind !== 'done') {
          const reason = outcome.kind === 'missing' ? `no incident ${id}` : outcome.reason;
          audit('failure', reason);
          return { text: outcome.kind === 'missing' ? `No incident ${id}.` : reason };
        }
        audit('success');
        return { text: `${id} ${action === 'ack' ? 'acknowledged' : 'resolved'} by ${by}.`, inChannel: true };
      }
      if (action === 'ticket') {
        const refusedTicket = found.incident.ticket ? `${id} already has ${found.incident.ticket.key}: ${found.incident.ticket.url}` : !this.deps.notifier ? 'Jira is not configured.' : undefined;
        if (refusedTicket) {
          audit('failure', refusedTicket);
          return { text: refusedTicket };
        }
        await this.deps.notifier!.requestTicket(found.incident, by);
        audit('success');
        return { text: `Ticket requested for ${id} by ${by}; the alert will link it.`, inChannel: true };
      }
      const reply = await this.silence(found.incident, by);
      audit('success');
      return reply;
    } catch (err) {
      audit('failure', (err as Error).message);
      if (action === 'ticket') return { text: (err as Error).message };
      throw err;
    }
  }

  private async silence(inc: Incident, by: string): Promise<Reply> {
    const now = Date.now();
    const silence = await this.deps.engine.silences.create({
      rule: inc.rule,
      group_key: inc.group_key || undefined,
      starts_at: new Date(now).toISOString(),
      ends_at: new Date(now + SILENCE_MS).toISOString(),
      reason: `silenced from chat for 1 h (${inc.id})`,
      created_by: by,
    });
    const updated = await this.deps.engine.incidents.update(inc.id, async (current) => {
      if (!current) return undefined;
      const next = structuredClone(current);
      addTimeline(next, { stage: 'silenced', at: new Date(now).toISOString(), by, note: `1 h, until ${silence.ends_at} (silence ${silence.id})` });
      next.updated_at = new Date(now).toISOString();
      return next;
    });
    if (updated) await this.deps.notifier?.onChanged(updated);
    return { text: `${inc.rule}${inc.group_key ? ` (${inc.group_key})` : ''} silenced for 1 h by ${by}.`, inChannel: true };
  }

  /** The asker's teams; none: the "no team" answer is theirs, and the refusal is audited. */
  private async teams(actor: Actor, command: string): Promise<string[]> {
    const teams = await teamsOf(this.deps.chat(), actor, this.directory);
    if (!teams.length) this.record(actor, { action: `chat.${command}`, category: 'authorization', outcome: 'failure', reason: 'in no StackLens team' });
    return teams;
  }

  private async incidents(actor: Actor): Promise<Reply> {
    const teams = await this.teams(actor, 'incidents');
    if (!teams.length) return { text: NO_TEAM(actor) };
    // Membership is per team, so the query can say which (labels.team).
    const page = await this.deps.engine.incidents.search({ status: ['open', 'acknowledged'], size: LISTED, teams });
    if (page.total === 0) return { text: `No open incidents for ${teams.join(', ')}.` };
    const b = bold(actor);
    const lines = page.incidents.map((i) => `${b(i.id)} [${i.severity}] ${i.status} — ${i.summary} (${i.count} events, last ${i.last_seen})${i.ticket ? ` ${i.ticket.key}` : ''}`);
    return { text: `${page.total} open incident(s):\n${lines.join('\n')}${page.total > lines.length ? `\n… and ${page.total - lines.length} more` : ''}` };
  }

  /**
   * The filter confining what `teams` may read (team-scope.ts) — from chat and from the API
   * alike — each team's chat pinned to its
   * workspace: a team without `workspace` is in the default Slack workspace, and Mattermost
   * teams are in the configured team — else a same-named channel elsewhere would match.
   */
  async scope(teams: string[]): Promise<Record<string, unknown>> {
    const chat = structuredClone(this.deps.chat());
    const slackDefault = await this.directory.slackDefaultWorkspace();
    const mattermost = await this.directory.mattermostTeam();
    for (const t of teams) {
      const team = chat.teams[t];
      // Unknown: a value no document has (fail closed).
      if (team?.slack && !team.slack.workspace) team.slack.workspace = slackDefault ?? UNKNOWN_WORKSPACE;
      if (team?.mattermost) team.mattermost.workspace = mattermost?.id ?? mattermost?.name ?? UNKNOWN_WORKSPACE;
    }
    return dataScope(teams, chat);
  }

  /** An audit record of something `actor` did or was refused from chat. */
  private record(actor: Actor, r: { action: string; category: AuditCategory; outcome: 'success' | 'failure'; target?: string; reason?: string }): void {
    this.deps.audit?.record({ ...r, actor: { name: actor.user_name || actor.user_id || 'unknown', id: actor.user_id, kind: 'chat' }, via: actor.platform, source: actor.origin?.source, requestId: actor.origin?.requestId });
  }

  private async search(actor: Actor, args: string[]): Promise<Reply> {
    const words: string[] = [];
    let channel: string | undefined;
    let user: string | undefined;
    let from: string | undefined;
    for (const a of args) {
      if (a.startsWith('in:')) channel = a.slice(3);
      else if (a.startsWith('from:')) user = a.slice(5);
      else if (a.startsWith('since:')) {
        try {
          from = new Date(Date.now() - parseDuration(a.slice(6))).toISOString();
        } catch {
          return { text: `since: "${a.slice(6)}" is not a duration (e.g. 30m, 1h, 7d)` };
        }
      } else words.push(a);
    }
    if (words.length === 0 && !channel && !user) return { text: 'Usage: /stacklens search <words> [in:#channel] [from:@user] [since:1h]' };
    const teams = await this.teams(actor, 'search');
    if (!teams.length) return { text: NO_TEAM(actor) };
    const scope = await this.scope(teams);
    const page = await search(this.deps.es, { scope, q: words.join(' '), source: ['chat'], channel, user, from, size: 10, paginate: false });
    if (page.hits.length === 0) return { text: `Nothing found for "${args.join(' ')}".` };
    const b = bold(actor);
    const lines = page.hits.map((h) => {
      const c = h.chat as any;
      const said = (h.highlight[0] ?? h.message).replace(/<mark>(.*?)<\/mark>/g, (_m, w) => b(w));
      return `${h['@timestamp'].slice(0, 16).replace('T', ' ')} #${c?.channel?.name ?? c?.channel?.id ?? '?'} @${c?.user?.name ?? c?.user?.id ?? '?'}: ${said}`;
    });
    return { text: `${page.total} message(s) found${page.total > lines.length ? `, newest ${lines.length}` : ''}:\n${lines.join('\n')}` };
  }

  private async stats(actor: Actor): Promise<Reply> {
    const teams = await this.teams(actor, 'stats');
    if (!teams.length) return { text: NO_TEAM(actor) };
    const s = await chatStats(this.deps.es, Date.now(), await this.scope(teams));
    const b = bold(actor);
    const errors = s.errors_24h.length ? s.errors_24h.map((e) => `${e.type} ${e.count}`).join(', ') : 'none';
    return {
      text: [
        `${b('Messages')}: ${s.messages_last_hour} in the last hour, ${s.messages_last_24h} in 24 h`,
        `${b('Active users')}: ${s.active_users_today} today, ${s.active_users_7d} in 7 days`,
        `${b('Bot response time')}: ${s.bot_response_ms_avg === null ? 'no replies in 24 h' : `${s.bot_response_ms_avg} ms average over ${s.bot_replies_24h} replies`}`,
        `${b('Errors (24 h)')}: ${errors}`,
        `(teams ${teams.join(', ')})`,
      ].join('\n'),
    };
  }
}

const bold = (actor: Actor) => (s: string) => (actor.platform === 'slack' ? `*${s}*` : `**${s}**`);
