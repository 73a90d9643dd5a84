// Acknowledge / resolve an incident on someone's behalf — from the admin API, a chat button
// or a slash command alike: the state change (optimistic concurrency), the resolve metric,
// and the follow-ups (ticket transition, chat messages updated).
import { applyAction, type Incident, type IncidentAction, type RuleEngine } from '@stacklens/detection';
import type { Notifier } from './integrations/notifier.js';
import type { CollectorMetrics } from './metrics.js';

export type ActionOutcome = { kind: 'done'; incident: Incident } | { kind: 'missing' } | { kind: 'refused'; reason: string };

export async function changeIncident(
  deps: { engine: RuleEngine; notifier?: Notifier; metrics?: CollectorMetrics },
  id: string,
  action: IncidentAction,
  by: string,
  note?: string,
): Promise<ActionOutcome> {
  let refusal: string | undefined;
  let exists = false;
  const updated = await deps.engine.incidents.update(id, async (current) => {
    refusal = undefined;
    if (!current) return undefined;
    exists = true;
    const next: Incident = structuredClone(current);
    refusal = applyAction(next, action, by, Date.now(), note);
    return refusal ? undefined : next;
  }, { visible: true }); // listed right after by whoever acted: searches must see it
  if (!exists) return { kind: 'missing' };
  if (refusal || !updated) return { kind: 'refused', reason: refusal ?? `incident ${id} did not change` };
  if (action === 'resolve') {
    deps.metrics?.incidentsResolved.inc({ severity: updated.severity, by: 'person' });
    await deps.notifier?.onResolved(updated);
  } else {
    await deps.notifier?.onChanged(updated);
  }
  return { kind: 'done', incident: updated };
}
