import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_STREAMS, INDICES, dataStreamName } from './indices.js';

const TEMPLATES = join(import.meta.dirname, '../../elasticsearch/templates/index');
const templates = readdirSync(TEMPLATES).map((f) => JSON.parse(readFileSync(join(TEMPLATES, f), 'utf8')) as { index_patterns: string[]; data_stream?: object; priority?: number });
const glob = (p: string) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`);
/** The template Elasticsearch would apply: the highest priority among those whose patterns match. */
const templateOf = (name: string) => templates.filter((t) => t.index_patterns.some((p) => glob(p).test(name))).sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))[0];

describe('index and data stream names', () => {
  it.each(Object.entries(DATA_STREAMS))('data stream %s (%s) has a data-stream template of its own', (_key, name) => {
    const t = templateOf(name);
    expect(t, name).toBeDefined();
    expect(t.data_stream, name).toBeDefined();
    expect(t.index_patterns.some((p) => p !== 'logs-*-*'), name).toBe(true);
  });

  it.each(Object.entries(INDICES))('index %s (%s) has a template, and it is not a data stream', (_key, name) => {
    const t = templateOf(name);
    expect(t, name).toBeDefined();
    expect(t.data_stream, name).toBeUndefined();
  });

  it('agents\' events land in logs-<dataset>-<namespace>, which the logs template covers', () => {
    expect(dataStreamName('pos', 'default')).toBe('logs-pos-default');
    expect(templateOf(dataStreamName('someapp', 'prod'))?.data_stream).toBeDefined();
  });
});
