import { describe, expect, it } from 'vitest';
import { TemplateCatalog, type StoredTemplate, type TemplateChange, type TemplateStore } from './template-catalog.js';

/** The store's contract in memory (the Elasticsearch one is tested in template-store.es.test.ts). */
class MemoryStore implements TemplateStore {
  readonly docs = new Map<string, StoredTemplate & { updated: number }>();
  failing = false;
  writes = 0;
  private clock = 0;
  async changedSince(since: number | undefined) {
    const templates = [...this.docs.values()].filter((d) => since === undefined || d.updated >= since);
    return { templates, newest: templates.length ? Math.max(...templates.map((t) => t.updated)) : undefined };
  }
  async write(changes: TemplateChange[]) {
    if (this.failing) throw new Error('store unreachable');
    this.writes++;
    for (const c of changes) {
      const d = this.docs.get(c.id);
      if (d) {
        d.count += c.count;
        d.template = c.template;
        d.updated = ++this.clock;
      } else this.docs.set(c.id, { id: c.id, dataset: c.dataset, template: c.template, count: c.count, first_seen: c.first_seen, last_seen: c.last_seen, updated: ++this.clock });
    }
    return [];
  }
}

describe('TemplateCatalog', () => {
  it('gives messages without text no template, and keeps datasets apart', async () => {
    const c = new TemplateCatalog(undefined);
    const [none, empty, pos, chat] = await c.assign([
      { dataset: 'pos', message: undefined },
      { dataset: 'pos', message: '   ' },
      { dataset: 'pos', message: 'connection refused to db-1' },
      { dataset: 'chat', message: 'connection refused to db-1' },
    ]);
    expect(none).toEqual({ id: '', template: '' });
    expect(empty).toEqual({ id: '', template: '' });
    expect(pos.id).not.toBe('');
    expect(chat.id).not.toBe(pos.id);
  });

  it('writes a created template before assign returns, and counts later ones at flush', async () => {
    const store = new MemoryStore();
    const c = new TemplateCatalog(store);
    const [t] = await c.assign([{ dataset: 'pos', message: 'MISSING_PRICE product 999' }]);
    expect(store.docs.get(t.id)?.count).toBe(1);
    await c.assign([{ dataset: 'pos', message: 'MISSING_PRICE product 1000' }, { dataset: 'pos', message: 'MISSING_PRICE product 1001' }]);
    expect(store.docs.get(t.id)?.count).toBe(1);
    await c.flush();
    expect(store.docs.get(t.id)?.count).toBe(3);
  });

  it('keeps assigning while the store is down, and writes what waited once it is back', async () => {
    const store = new MemoryStore();
    store.failing = true;
    const c = new TemplateCatalog(store);
    const [t] = await c.assign([{ dataset: 'pos', message: 'payment declined for order 77' }]);
    expect(t.id).not.toBe('');
    await expect(c.flush()).rejects.toThrow('store unreachable');
    store.failing = false;
    await c.flush();
    expect(store.docs.get(t.id)?.count).toBe(1);
  });

  it('a store that is down is read again only after syncEveryMs, not by every batch', async () => {
    let reads = 0;
    const down: TemplateStore = { changedSince: async () => { reads++; throw new Error('store unreachable'); }, write: async (c) => c };
    let now = 1_000_000;
    const c = new TemplateCatalog(down, { syncEveryMs: 250, now: () => now });
    await c.assign([{ dataset: 'pos', message: 'first kind of message' }]);
    await c.assign([{ dataset: 'pos', message: 'a second kind entirely different here' }]);
    expect(reads).toBe(1);
    now += 250;
    await c.assign([{ dataset: 'pos', message: 'third one that nobody has seen before now' }]);
    expect(reads).toBe(2);
  });

  it('past maxTemplatesPerDataset, new messages get an unlearned id from their masked text (the same on every collector)', async () => {
    const a = new TemplateCatalog(undefined, { maxTemplatesPerDataset: 2 });
    const b = new TemplateCatalog(undefined, { maxTemplatesPerDataset: 2 });
    const texts = ['disk full', 'user logged out of the kiosk', 'printer jammed while printing receipt for table', 'cache warmed'];
    const msgs = texts.map((message) => ({ dataset: 'x', message }));
    const fromA = await a.assign(msgs);
    expect(a.size('x')).toBe(2);
    expect(a.overflowed).toBe(2);
    const fromB = await b.assign(msgs);
    expect(fromB.map((t) => t.id)).toEqual(fromA.map((t) => t.id));
  });

  it('a restarted catalog loads the stored templates and gives their ids', async () => {
    const store = new MemoryStore();
    const first = new TemplateCatalog(store);
    const [t] = await first.assign([{ dataset: 'hdfs', message: 'Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010' }]);
    const second = new TemplateCatalog(store);
    await second.load();
    expect(second.peek('hdfs', 'Receiving block blk_7503483334202473044 src: /10.251.215.16:55695 dest: /10.251.215.16:50010')?.id).toBe(t.id);
  });
});
