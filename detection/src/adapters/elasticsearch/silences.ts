// Silences in Elasticsearch (stacklens-silences), cached in memory: evaluation asks the
// cache (no request per match); the cache refreshes every few seconds so a silence made
// through another collector applies here too.
import { randomUUID } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import { SILENCES_INDEX, silenceMatches, type Silence } from '../../silence.js';
import type { Match } from '../../rule-type.js';
import type { Rule } from '../../rule.js';
import { isNotFound, isIndexMissing } from '@stacklens/elasticsearch';

export class SilenceStore {
  private active: Silence[] = [];

  constructor(private readonly client: Client) {}

  async refresh(now = Date.now()): Promise<void> {
    try {
      const res: any = await this.client.search({
        index: SILENCES_INDEX,
        size: 1000,
        query: { range: { ends_at: { gt: now, format: 'epoch_millis' } } },
      } as never);
      this.active = res.hits.hits.map((h: any) => h._source as Silence);
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
      this.active = [];
    }
  }

  list(now = Date.now()): Silence[] {
    return this.active.filter((s) => Date.parse(s.ends_at) > now);
  }

  silencedBy(rule: Rule, match: Match, now = Date.now()): string | undefined {
    return this.active.find((s) => silenceMatches(s, rule, match, now))?.id;
  }

  async create(input: Omit<Silence, 'id' | 'created_at'>): Promise<Silence> {
    const silence: Silence = { id: randomUUID(), created_at: new Date().toISOString(), ...input };
    await this.client.create({ index: SILENCES_INDEX, id: silence.id, document: silence, refresh: 'wait_for' });
    this.active.push(silence);
    return silence;
  }

  /**
   * End a silence now; false when there is none with this id, or `allowed` refuses it. The
   * silence is read from Elasticsearch (not this collector's cache, which may not have one
   * another collector just made) and changed only if it was not changed meanwhile.
   */
  async expire(id: string, allowed: (s: Silence) => boolean = () => true): Promise<boolean> {
    try {
      const found = await this.client.get<Silence>({ index: SILENCES_INDEX, id });
      if (!found._source || !allowed(found._source)) return false;
      await this.client.update({ index: SILENCES_INDEX, id, doc: { ends_at: new Date().toISOString() }, if_seq_no: found._seq_no, if_primary_term: found._primary_term, refresh: 'wait_for' });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    this.active = this.active.filter((s) => s.id !== id);
    return true;
  }
}
