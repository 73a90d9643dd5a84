// Message templates shared through Elasticsearch (e2e tier: *.es.test.ts): two collectors,
// and a restarted one, give the same message the same template id.
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { describe, expect, inject, it } from 'vitest';
import { installTemplates } from '@stacklens/elasticsearch';
import { EsTemplateStore, TEMPLATES_INDEX } from './template-store.js';
import { TemplateCatalog } from '../../template-catalog.js';

const es = new Client({ node: inject('esUrl') });
const stored = async (id: string) => (await es.get<Record<string, any>>({ index: TEMPLATES_INDEX, id }))._source!;

describe('message templates in Elasticsearch', () => {
  it('two collectors and a restarted one assign the same ids; texts merge and counts add up in the store', async () => {
    await installTemplates(es);
    const dataset = `sshd${randomBytes(4).toString('hex')}`;
    const store = new EsTemplateStore(es);
    // syncEveryMs 0: read before every creation (the default reads at most every 250 ms).
    const a = new TemplateCatalog(store, { syncEveryMs: 0 });
    const b = new TemplateCatalog(store, { syncEveryMs: 0 });
    await a.load();
    await b.load();

    const [first] = await a.assign([{ dataset, message: 'Invalid user admin from 5.188.10.180 port 4242' }]);
    expect(first.id).toMatch(/^[0-9a-f]{16}$/);
    // B never saw the message kind: it reads A's template before creating one of its own.
    const [fromB] = await b.assign([{ dataset, message: 'Invalid user support from 103.99.0.122 port 50990' }]);
    expect(fromB.id).toBe(first.id);
    expect(fromB.template).toContain('<*>');
    const [again] = await a.assign([{ dataset, message: 'Invalid user oracle from 187.141.143.180 port 1' }]);
    expect(again.id).toBe(first.id);
    await a.flush();
    await b.flush();

    const doc = await stored(first.id);
    expect(doc.dataset).toBe(dataset);
    expect(doc.count).toBe(3);
    expect(doc.first_template).toContain('admin');
    // The generalization reached by either collector is the stored text; the id is the first text's.
    expect(doc.template).not.toContain('admin');
    expect(doc.template).not.toContain('support');
    expect(doc.examples[0]).toContain('Invalid user admin');

    // A collector started later (or A restarted) loads the templates: same id, nothing new stored.
    const restarted = new TemplateCatalog(store);
    await restarted.load();
    expect(restarted.peek(dataset, 'Invalid user guest from 10.0.0.1 port 22')?.id).toBe(first.id);
    const [later] = await restarted.assign([{ dataset, message: 'Invalid user guest from 10.0.0.1 port 22' }]);
    expect(later.id).toBe(first.id);
    const count = await es.count({ index: TEMPLATES_INDEX, query: { term: { dataset } } });
    expect(count.count).toBe(1);
  });

  it('a template created elsewhere after the start arrives with refresh(); other datasets keep their own ids', async () => {
    await installTemplates(es);
    const dataset = `pos${randomBytes(4).toString('hex')}`;
    const store = new EsTemplateStore(es);
    const a = new TemplateCatalog(store);
    const b = new TemplateCatalog(store);
    await a.load();
    await b.load();
    const [made] = await a.assign([{ dataset, message: 'MISSING_PRICE product 999 has no price' }]);
    expect(b.peek(dataset, 'MISSING_PRICE product 1001 has no price')).toBeUndefined();
    await b.refresh();
    expect(b.peek(dataset, 'MISSING_PRICE product 1001 has no price')?.id).toBe(made.id);
    const [other] = await b.assign([{ dataset: `${dataset}x`, message: 'MISSING_PRICE product 999 has no price' }]);
    expect(other.id).not.toBe(made.id);
  });
});
