// Which rules can an event touch? With a hundred rules, testing every filter on every event
// costs more than the rest of ingest. Most filters start with a term (`error.type:
// MISSING_PRICE`, `log.level: [error, critical]`), so rules are indexed by that field and
// value: an event reads each indexed field once and tests only the rules filed under its
// values (plus the rules without a term filter).
import { fieldValues } from '../fields.js';
import type { Rule } from '../rule.js';

export class RuleDispatch {
  private readonly byField = new Map<string, Map<string, Rule[]>>();
  private readonly unindexed: Rule[] = [];

  constructor(rules: Rule[]) {
    for (const rule of rules) {
      const first = Object.entries(rule.spec.filter).find(([key]) => key !== 'query');
      if (!first) {
        this.unindexed.push(rule);
        continue;
      }
      const [field, value] = first;
      let byValue = this.byField.get(field);
      if (!byValue) this.byField.set(field, (byValue = new Map()));
      for (const v of Array.isArray(value) ? value : [value]) {
        const key = String(v);
        const list = byValue.get(key);
        if (list) list.push(rule);
        else byValue.set(key, [rule]);
      }
    }
  }

  /** Rules whose filter this event passes, in the data stream `index`. */
  matching(index: string, doc: Record<string, unknown>, out: Rule[] = []): Rule[] {
    out.length = 0;
    const test = (rule: Rule) => {
      if (rule.indexMatcher.test(index) && rule.filter.test(doc) !== false) out.push(rule);
    };
    for (const rule of this.unindexed) test(rule);
    for (const [field, byValue] of this.byField) {
      for (const v of fieldValues(doc, field)) {
        const rules = byValue.get(String(v));
        if (rules) for (const rule of rules) test(rule);
      }
    }
    return out;
  }
}
