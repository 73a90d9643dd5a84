// Events whose log time lies outside the window that an evaluation at the wall clock looks at:
// an old log read for the first time (a file of 2015 lines, replayed or backfilled), lines
// shipped after an outage longer than the rule's window, a host whose clock runs ahead. An
// event-counting rule (any, frequency, new_term, blacklist, whitelist) evaluated only at `now`
// never sees them: the problem they hold would open no incident. They are evaluated at their
// own time instead, as `stacklens rules test` replays a log: a frequency rule at the end of
// each second holding them (its window slides, so a burst is counted whole, in log time); the
// others once per span of at most their window (each late event is then in one window).
// Incidents keep the wall clock for what happens to them (opened, updated, auto-resolved).
import type { Rule } from '../rule.js';

/** An event this close to the edge of the live window may miss the evaluation (refresh and tick delay): treated as late. */
const EDGE_MS = 5_000;
/** Distinct seconds remembered per rule (a bound on memory; beyond it, noted as dropped). */
const MAX_SECONDS_PER_RULE = 100_000;

/** The log time one evaluation of the rule matches events in (its type's lateEvents.window), if its type evaluates late events. */
function lateWindowMs(rule: Rule): number | undefined {
  return rule.ruleType.lateEvents?.window(rule.spec);
}

export class LateEvents {
  /** Per rule, the seconds (their last millisecond) holding late events. */
  private readonly seconds = new Map<Rule, Set<number>>();
  /** Late events not remembered because a rule had MAX_SECONDS_PER_RULE seconds waiting. */
  dropped = 0;

  /** Note an event the rule matched; true when it is late (the wall-clock evaluation cannot see it). */
  note(rule: Rule, at: number, now: number): boolean {
    const window = lateWindowMs(rule);
    if (window === undefined || Number.isNaN(at)) return false;
    if (at >= now - window + EDGE_MS && at <= now) return false;
    let set = this.seconds.get(rule);
    if (!set) this.seconds.set(rule, (set = new Set()));
    const second = Math.floor(at / 1000) * 1000 + 999;
    if (!set.has(second)) {
      if (set.size >= MAX_SECONDS_PER_RULE) {
        this.dropped++;
        return true;
      }
      set.add(second);
    }
    return true;
  }

  get pending(): number {
    let n = 0;
    for (const s of this.seconds.values()) n += s.size;
    return n;
  }

  /**
   * Per rule, when to evaluate it, oldest first, at most `max` per rule (the rest stays for the
   * next call; none for a rule `later` holds back): a type whose window `slides` (frequency's
   * count to a threshold) at the end of every second holding late events, as at the collector in
   * real time and in `rules test`, so a burst across two spans is still seen whole; any other at
   * the ends of spans of at most its window, so that every late event is in one window.
   */
  take(max: number, later?: (rule: Rule) => boolean): Map<Rule, number[]> {
    const out = new Map<Rule, number[]>();
    for (const [rule, set] of this.seconds) {
      if (later?.(rule)) continue;
      const times = [...set].sort((a, b) => a - b);
      // A window [end - window, end] holds a span of seconds starting at `start` when
      // start - 999 (its first millisecond) >= end - window.
      const span = rule.ruleType.lateEvents?.slides ? 0 : Math.max(0, (lateWindowMs(rule) ?? 0) - 999);
      const ends: number[] = [];
      let i = 0;
      while (i < times.length && ends.length < max) {
        const start = times[i];
        while (i + 1 < times.length && times[i + 1] - start <= span) i++;
        ends.push(times[i]);
        i++;
      }
      for (const t of times.slice(0, i)) set.delete(t);
      if (set.size === 0) this.seconds.delete(rule);
      out.set(rule, ends);
    }
    return out;
  }

  /** After a reload: what waits for a rule goes to its new version (same name); a rule removed is forgotten. */
  retain(rules: readonly Rule[]): void {
    const byName = new Map(rules.map((r) => [r.spec.name, r]));
    for (const [rule, set] of [...this.seconds]) {
      this.seconds.delete(rule);
      const next = byName.get(rule.spec.name);
      if (next?.ruleType.lateEvents) this.seconds.set(next, set);
    }
  }
}
