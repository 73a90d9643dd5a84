// Message templates in Elasticsearch (stacklens-templates): one document per template id,
// written by every collector. Writes never overwrite another collector's (optimistic
// concurrency): counts add up, seen times widen, and two texts of one template merge (a
// position where they differ becomes <*>, the generalization both would reach).
import type { Client } from '@elastic/elasticsearch';
import { INDICES } from '@stacklens/common';
import { isIndexMissing } from '@stacklens/elasticsearch';
import { mergeChange, type StoredTemplate, type TemplateChange, type TemplateStore } from '../../template-catalog.js';

export const TEMPLATES_INDEX = INDICES.templates;

/** Reads ask from this long before the newest write seen: collectors' clocks differ, and a write is visible only after a refresh. */
const READ_OVERLAP_MS = 60_000;
const PAGE = 1000;
const MAX_EXAMPLES = 3;

const WRITE_ROUNDS = 5;

type Doc = StoredTemplate & { first_template: string; updated_at: string; examples: string[] };

/** Two texts of one template as one: where they differ (same length), <*>; otherwise the newer. */
export function mergeTemplateText(stored: string, incoming: string): string {
  if (stored === incoming) return stored;
  const x = stored.split(' ');
  const y = incoming.split(' ');
  if (x.length !== y.length) return incoming;
  return x.map((t, i) => (t === y[i] ? t : '<*>')).join(' ');
}

/** The stored document after a collector's change (a new one when there is none). */
export function applyChange(doc: Doc | undefined, c: TemplateChange, now: string): Doc {
  if (!doc) return { id: c.id, dataset: c.dataset, template: c.template, first_template: c.template, count: c.count, first_seen: c.first_seen, last_seen: c.last_seen, updated_at: now, examples: c.example ? [c.example] : [] };
  const examples = doc.examples ?? [];
  return {
    ...doc,
    template: mergeTemplateText(doc.template, c.template),
    count: doc.count + c.count,
    first_seen: c.first_seen < doc.first_seen ? c.first_seen : doc.first_seen,
    last_seen: c.last_seen > doc.last_seen ? c.last_seen : doc.last_seen,
    updated_at: now,
    examples: c.example && examples.length < MAX_EXAMPLES && !examples.includes(c.example) ? [...examples, c.example] : examples,
  };
}

export class EsTemplateStore implements TemplateStore {
  constructor(private readonly client: Client) {}

  async changedSince(sinceMs: number | undefined): Promise<{ templates: StoredTemplate[]; newest: number | undefined }> {
    const templates: StoredTemplate[] = [];
    let newest: number | undefined;
    const query = sinceMs === undefined ? { match_all: {} } : { range: { updated_at: { gte: sinceMs - READ_OVERLAP_MS, format: 'epoch_millis' } } };
    let after: unknown[] | undefined;
    try {
      for (;;) {
        const res: any = await this.client.search({
          index: TEMPLATES_INDEX,
          size: PAGE,
          query,
          sort: [{ updated_at: 'asc' }, { id: 'asc' }],
          _source: ['id', 'dataset', 'template', 'count', 'first_seen', 'last_seen', 'updated_at'],
          ...(after ? { search_after: after } : {}),
        } as never);
        const hits = res.hits.hits as { _source: StoredTemplate & { updated_at: string }; sort: unknown[] }[];
        for (const h of hits) {
          templates.push(h._source);
          const at = Date.parse(h._source.updated_at);
          if (!Number.isNaN(at)) newest = Math.max(newest ?? at, at);
        }
        if (hits.length < PAGE) break;
        after = hits[hits.length - 1].sort;
      }
    } catch (err) {
      if (!isIndexMissing(err)) throw err;
    }
    return { templates, newest };
  }

  /**
   * Read, merge, write back only if unchanged (if_seq_no): another collector's write in
   * between makes a conflict, and that change is merged again from the new document. (No
   * scripted update: the Elasticsearch the project runs has no scripting module.)
   */
  async write(changes: TemplateChange[], opts: { visible: boolean }): Promise<TemplateChange[]> {
    let todo = mergeById(changes);
    const failed: TemplateChange[] = [];
    for (let round = 0; round < WRITE_ROUNDS && todo.length > 0; round++) {
      const found: any = await this.client.mget({ index: TEMPLATES_INDEX, ids: todo.map((c) => c.id) } as never).catch((err) => {
        if (isIndexMissing(err)) return { docs: [] };
        throw err;
      });
      const current = new Map<string, any>((found.docs ?? []).filter((d: any) => d.found).map((d: any) => [d._id, d]));
      const now = new Date().toISOString();
      const operations = todo.flatMap((c): object[] => {
        const d = current.get(c.id);
        const doc = applyChange(d?._source, c, now);
        return d ? [{ index: { _index: TEMPLATES_INDEX, _id: c.id, if_seq_no: d._seq_no, if_primary_term: d._primary_term } }, doc] : [{ create: { _index: TEMPLATES_INDEX, _id: c.id } }, doc];
      });
      const res: any = await this.client.bulk({ operations, refresh: opts.visible } as never);
      const again: TemplateChange[] = [];
      todo.forEach((c, i) => {
        const item = res.items[i]?.index ?? res.items[i]?.create;
        if (!item?.error) return;
        if (item.status === 409) again.push(c);
        else failed.push(c);
      });
      todo = again;
    }
    return failed.concat(todo);
  }

  /** The stored templates with these ids (those that exist). */
  async get(ids: readonly string[]): Promise<StoredTemplate[]> {
    if (ids.length === 0) return [];
    try {
      const res: any = await this.client.mget({ index: TEMPLATES_INDEX, ids: [...new Set(ids)] } as never);
      return res.docs.filter((d: any) => d.found).map((d: any) => d._source as StoredTemplate);
    } catch (err) {
      if (isIndexMissing(err)) return [];
      throw err;
    }
  }
}

/** One change per id (a flush may hold the same template twice: created, then counted). */
function mergeById(changes: TemplateChange[]): TemplateChange[] {
  const byId = new Map<string, TemplateChange>();
  for (const c of changes) {
    const seen = byId.get(c.id);
    if (seen) mergeChange(seen, c);
    else byId.set(c.id, { ...c });
  }
  return [...byId.values()];
}
