// ChatOps, the same for Slack and Mattermost: `/stacklens <command>` and the alert buttons.
// Every change records who made it (incident timeline), and only the incident's team acts.
import type { Client } from '@elastic/elasticsearch';
import { parseDuration } from '@stacklens/common';
import { addTimeline, type Incident } from '@stacklens/detection';
import type { RuleEngine } from '../detection/engine.js';
import type { Notifier } from '../integrations/notifier.js';
import type { CollectorMetrics } from '../metrics.js';
import type { ChatConfig } from '../config.js';
import { changeIncident } from '../incident-actions.js';
import { search } from '../search.js';
import { chatStats } from './stats.js';
import { refusal, type Actor } from './routing.js';
import type { ChatAction } from './render.js';

export interface ChatOpsDeps {
  es: Client;
  engine: RuleEngine;
  notifier?: Notifier;
  metrics?: CollectorMetrics;
  chat: () => ChatConfig;
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
const MAX_INCIDENT_PAGES = 10;

export class ChatOps {
  constructor(private readonly deps: ChatOpsDeps) {}

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
    const found = await this.deps.engine.incidents.get(id);
    if (!found) return { text: `No incident ${id}.` };
    const refused = refusal(found.incident, this.deps.chat(), actor);
    if (refused) return { text: `Not allowed: ${refused}.` };
    const by = `${actor.user_name ?? actor.user_id} (${actor.platform})`;
    if (action === 'ack' || action === 'resolve') {
      const outcome = await changeIncident(this.deps, id, action === 'ack' ? 'acknowledge' : 'resolve', by);
      if (outcome.kind === 'missing') return { text: `No incident ${id}.` };
      if (outcome.kind === 'refused') return { text: outcome.reason };
      return { text: `${id} ${action === 'ack' ? 'acknowledged' : 'resolved'} by ${by}.`, inChannel: true };
    }
    if (action === 'ticket') {
      if (found.incident.ticket) return { text: `${id} already has ${found.incident.ticket.key}: ${found.incident.ticket.url}` };
      if (!this.deps.notifier) return { text: 'Jira is not configured.' };
      try {
        await this.deps.notifier.requestTicket(found.incident, by);
      } catch (err) {
        return { text: (err as Error).message };
      }
      return { text: `Ticket requested for ${id} by ${by}; the alert will link it.`, inChannel: true };
    }
    return this.silence(found.incident, by);
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

  private async incidents(actor: Actor): Promise<Reply> {
    // Team membership is decided here, not in the query: read every open page (bounded).
    const mine: Incident[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < MAX_INCIDENT_PAGES; pages++) {
      const page = await this.deps.engine.incidents.search({ status: ['open', 'acknowledged'], size: 200, after });
      mine.push(...page.incidents.filter((i) => !refusal(i, this.deps.chat(), actor)));
      after = page.next;
      if (!after) break;
    }
    if (mine.length === 0) return { text: 'No open incidents for your team.' };
    const b = bold(actor);
    const lines = mine.slice(0, 15).map((i) => `${b(i.id)} [${i.severity}] ${i.status} — ${i.summary} (${i.count} events, last ${i.last_seen})${i.ticket ? ` ${i.ticket.key}` : ''}`);
    return { text: `${mine.length} open incident(s):\n${lines.join('\n')}${mine.length > 15 ? `\n… and ${mine.length - 15} more` : ''}` };
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
    const page = await search(this.deps.es, { q: words.join(' '), source: ['chat'], channel, user, from, size: 10, paginate: false });
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
    const s = await chatStats(this.deps.es);
    const b = bold(actor);
    const errors = s.errors_24h.length ? s.errors_24h.map((e) => `${e.type} ${e.count}`).join(', ') : 'none';
    return {
      text: [
        `${b('Messages')}: ${s.messages_last_hour} in the last hour, ${s.messages_last_24h} in 24 h`,
        `${b('Active users')}: ${s.active_users_today} today, ${s.active_users_7d} in 7 days`,
        `${b('Bot response time')}: ${s.bot_response_ms_avg === null ? 'no replies in 24 h' : `${s.bot_response_ms_avg} ms average over ${s.bot_replies_24h} replies`}`,
        `${b('Errors (24 h)')}: ${errors}`,
      ].join('\n'),
    };
  }
}

const bold = (actor: Actor) => (s: string) => (actor.platform === 'slack' ? `*${s}*` : `**${s}**`);
