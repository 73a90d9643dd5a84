// Scheduled evaluation, shared by several collectors: time is cut into slots of run_every
// per rule; a collector runs a slot only after claiming it in stacklens-rule-state with
// optimistic concurrency, so no slot runs twice. The claimed slot is durable: after a
// restart (or an outage of every collector) the missed slots are evaluated on the next claim.
import type { Client } from '@elastic/elasticsearch';
import type { Rule } from '../../rule.js';
import { isNotFound, isConflict } from '@stacklens/elasticsearch';
import { INDICES } from '@stacklens/common';

export const RULE_STATE_INDEX = INDICES.ruleState;

/** At most this many missed slots are caught up (the most recent ones). */
export const MAX_CATCH_UP_SLOTS = 120;

export interface Claim {
  /** Evaluation times to run, oldest first: the missed slots' ends, then now. */
  times: number[];
}

export async function claimSlot(client: Client, rule: Rule, now: number, collectorId: string): Promise<Claim | undefined> {
  const every = rule.runEveryMs;
  const slot = Math.floor(now / every);
  const id = `${rule.spec.name}@${rule.index}`;
  let current: any;
  try {
    current = await client.get({ index: RULE_STATE_INDEX, id });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const state = current?._source;
  // A changed run_every makes old slot numbers meaningless: start afresh from now.
  const lastSlot: number | undefined = state && state.run_every_ms === every ? state.last_slot : undefined;
  if (lastSlot !== undefined && lastSlot >= slot) return undefined;
  const document = { rule: rule.spec.name, run_every_ms: every, last_slot: slot, last_run_at: new Date(now).toISOString(), collector: collectorId };
  try {
    if (current) await client.index({ index: RULE_STATE_INDEX, id, document, if_seq_no: current._seq_no, if_primary_term: current._primary_term });
    else await client.create({ index: RULE_STATE_INDEX, id, document });
  } catch (err) {
    if (isConflict(err)) return undefined; // another collector claimed it
    throw err;
  }
  const times: number[] = [];
  if (lastSlot !== undefined) {
    for (let s = Math.max(lastSlot + 1, slot - MAX_CATCH_UP_SLOTS); s < slot; s++) times.push((s + 1) * every);
  }
  times.push(now);
  return { times };
}
