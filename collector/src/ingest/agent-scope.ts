// What one agent request may do, from the principal of its token (security/principals.ts):
// send as its agent id (else the request is refused as a whole, 403 — ingest-handler.ts),
// write each event's dataset (else that event is dead-lettered), create data streams up to
// the token's max_data_streams (data-stream-quota.ts), and the namespace of its document ids
// (event-ids.ts).
import type { Logger } from '@stacklens/common';
import { globMatcher, type AgentPrincipal } from '../security/principals.js';
import type { DataStreamQuota } from './data-stream-quota.js';
import { docId, docIdPrefix } from './event-ids.js';

/** A principal's compiled patterns, made once per principal (principals live as long as their configuration). */
const matchers = new WeakMap<AgentPrincipal, { agents: (s: string) => boolean; datasets: (s: string) => boolean }>();

function matchersOf(p: AgentPrincipal): { agents: (s: string) => boolean; datasets: (s: string) => boolean } {
  let m = matchers.get(p);
  if (!m) matchers.set(p, (m = { agents: globMatcher(p.agents), datasets: globMatcher(p.datasets) }));
  return m;
}

/** Why `principal` may not send as agent `agentId`, or undefined when it may. */
export function agentIdRefusal(principal: AgentPrincipal, agentId: string): string | undefined {
  if (matchersOf(principal).agents(agentId)) return undefined;
  return `agent token "${principal.name}" may not send as agent ${JSON.stringify(agentId)} (its agents: ${principal.agents.join(', ')})`;
}

/** An event the token may not write: its dead letter's error.type and reason. */
export interface Refusal {
  type: 'dataset_not_allowed' | 'max_data_streams';
  reason: string;
}

export class AgentScope {
  /** Prefix of every _id this request writes. */
  readonly idPrefix: string;
  private readonly datasets: (s: string) => boolean;
  /** Data streams this request asked about already: null (allowed) or the refusal. */
  private readonly decided = new Map<string, Refusal | null>();

  constructor(
    readonly principal: AgentPrincipal,
    readonly agentId: string,
    private readonly quota: DataStreamQuota,
    private readonly log: () => Logger,
  ) {
    this.idPrefix = docIdPrefix(principal.idNamespace, agentId);
    this.datasets = matchersOf(principal).datasets;
  }

  /** The Elasticsearch _id of one of this request's events. */
  docId(eventId: string): string {
    return docId(this.idPrefix, eventId);
  }

  /** Why this token may not write `dataset` (agent_tokens[].datasets), or undefined when it may. */
  datasetRefusal(dataset: string): Refusal | undefined {
    if (this.datasets(dataset)) return undefined;
    return { type: 'dataset_not_allowed', reason: `agent token "${this.principal.name}" may not write dataset ${dataset} (its datasets: ${this.principal.datasets.join(', ')})` };
  }

  /**
   * Why this token may not write a document to `stream` (it would be one new data stream more
   * than its max_data_streams), or undefined when it may — a new stream is then charged to it.
   * Synchronous once the request has asked about the stream (every event but the first of each
   * stream): the hot path awaits nothing.
   */
  streamRefusal(stream: string): Refusal | undefined | Promise<Refusal | undefined> {
    const known = this.decided.get(stream);
    if (known !== undefined) return known ?? undefined;
    return this.admit(stream);
  }

  private async admit(stream: string): Promise<Refusal | undefined> {
    const reason = await this.quota.admit(this.principal, stream, this.log);
    const why: Refusal | null = reason === undefined ? null : { type: 'max_data_streams', reason };
    this.decided.set(stream, why);
    return why ?? undefined;
  }
}
