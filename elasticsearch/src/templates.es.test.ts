// installTemplates against the real Elasticsearch: replica settings from configuration
// (elasticsearch.replicas). Uses copies of the templates under names and patterns of its own,
// so the shared Elasticsearch's StackLens templates are never touched.
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { installTemplates, TEMPLATES_DIR } from './templates.js';

const es = new Client({ node: inject('esUrl') });
const tag = `zzrep${Date.now().toString(36)}`;

/** The shipped templates, renamed `<tag>-…` with patterns `<tag>-…` (components referenced by their new names). */
function isolatedTemplates(): string {
  const dir = mkdtempSync(join(tmpdir(), 'templates-'));
  cpSync(TEMPLATES_DIR, dir, { recursive: true });
  for (const kind of ['component', 'index']) {
    for (const f of readdirSync(join(dir, kind))) {
      const body = JSON.parse(readFileSync(join(dir, kind, f), 'utf8'));
      if (body.index_patterns) body.index_patterns = body.index_patterns.map((p: string) => `${tag}-${p}`);
      if (body.composed_of) body.composed_of = body.composed_of.map((c: string) => `${tag}-${c}`);
      if (body.priority) body.priority += 1000;
      writeFileSync(join(dir, kind, f), JSON.stringify(body));
      renameSync(join(dir, kind, f), join(dir, kind, `${tag}-${f}`));
    }
  }
  return dir;
}

// Its data stream stays (this distribution has no data stream API to delete it); the templates go.
afterAll(async () => {
  await es.indices.delete({ index: `${tag}-*`, ignore_unavailable: true }).catch(() => {});
  await es.indices.deleteIndexTemplate({ name: `${tag}-*` }).catch(() => {});
  await es.cluster.deleteComponentTemplate({ name: `${tag}-*` }).catch(() => {});
  await es.close();
});

describe('installTemplates replicas', () => {
  it("'auto' keeps auto_expand_replicas 0-1; a number sets it on templates, on indices that exist, and skips those not made yet", async () => {
    const dir = isolatedTemplates();
    await installTemplates(es, { dir });
    const ecs = await es.cluster.getComponentTemplate({ name: `${tag}-stacklens-ecs@mappings` });
    expect(ecs.component_templates[0].component_template.template.settings?.index?.auto_expand_replicas).toBe('0-1');

    // A data stream exists, stacklens-incidents' copy does not: the fixed number reaches the one, never fails on the other.
    await es.index({ index: `${tag}-logs-pos-default`, op_type: 'create', document: { '@timestamp': new Date().toISOString(), message: 'x' }, refresh: true });
    await installTemplates(es, { dir, replicas: 2 });
    const after = await es.cluster.getComponentTemplate({ name: `${tag}-stacklens-ecs@mappings` });
    expect(after.component_templates[0].component_template.template.settings?.index).toMatchObject({ auto_expand_replicas: 'false', number_of_replicas: '2' });
    const incidents = await es.indices.getIndexTemplate({ name: `${tag}-stacklens-incidents` });
    expect(incidents.index_templates[0].index_template.template?.settings?.index).toMatchObject({ number_of_replicas: '2' });
    const settings = await es.indices.getSettings({ index: `${tag}-logs-pos-default` });
    expect(Object.values(settings).map((s) => s.settings?.index?.number_of_replicas)).toEqual(['2']);
  });
});
