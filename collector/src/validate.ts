// Checks each event of a batch on its own. A bad event does not fail the batch: it goes to
// the dead-letter stream with the reason, and the good ones around it are indexed.
import { DATASET_PATTERN, NAMESPACE_PATTERN, DEADLETTER_DATASET, type WireEvent } from '@stacklens/common';

export type Checked = { ok: true; event: WireEvent } | { ok: false; reason: string; raw: unknown };

export function checkEvent(value: unknown, index: number): Checked {
  const bad = (reason: string): Checked => ({ ok: false, reason: `events[${index}]: ${reason}`, raw: value });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad('must be an object');
  const e = value as Partial<WireEvent>;
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > 512) return bad('id must be a string of 1 to 512 characters');
  if (typeof e.dataset !== 'string' || !DATASET_PATTERN.test(e.dataset)) return bad(`dataset ${JSON.stringify(e.dataset)} is not a valid dataset name`);
  if (e.dataset === DEADLETTER_DATASET) return bad(`dataset ${DEADLETTER_DATASET} is reserved`);
  if (typeof e.namespace !== 'string' || !NAMESPACE_PATTERN.test(e.namespace)) return bad(`namespace ${JSON.stringify(e.namespace)} is not a valid namespace`);
  if (e.doc === null || typeof e.doc !== 'object' || Array.isArray(e.doc)) return bad('doc must be an object');
  if (e.error !== undefined) return { ok: true, event: e as WireEvent }; // the agent's own parse failure: dead-lettered by the caller
  const ts = e.doc['@timestamp'];
  if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts))) return bad(`@timestamp ${JSON.stringify(ts)} is missing or not a date`);
  return { ok: true, event: e as WireEvent };
}
