import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCollectorConfig } from './config.js';

const BASE = 'listen: 127.0.0.1:8080\nelasticsearch:\n  url: http://127.0.0.1:9200\nagent_tokens: ["agent-token-for-tests-01"]\n';
const load = (extra: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'collector-config-')), 'collector.yaml');
  writeFileSync(file, BASE + extra);
  return loadCollectorConfig(file, {});
};

describe('collector.yaml: ingest limits', () => {
  it('has defaults that fit what the agent sends', () => {
    expect(load('').ingest).toEqual({ max_events_per_request: 10_000, max_event_bytes: 4 * 1024 * 1024, max_depth: 32, max_dead_letters_per_request: 100 });
  });

  it('reads sizes with units and keeps the defaults of the keys not given', () => {
    expect(load('ingest:\n  max_event_bytes: 256KiB\n  max_depth: 8\n').ingest).toEqual({ max_events_per_request: 10_000, max_event_bytes: 256 * 1024, max_depth: 8, max_dead_letters_per_request: 100 });
  });

  it('names file, line and key of a bad value', () => {
    expect(() => load('ingest:\n  max_depth: 0\n')).toThrow(/collector\.yaml:6: ingest\.max_depth: /);
    expect(() => load('ingest:\n  max_event_bytes: 10\n')).toThrow(/collector\.yaml:6: ingest\.max_event_bytes: must be at least 1KiB/);
    expect(() => load('ingest:\n  max_events: 5\n')).toThrow(/collector\.yaml:6: ingest: unknown key "max_events"/);
  });
});

describe('collector.yaml: several Elasticsearch nodes', () => {
  const loadEs = (es: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'collector-config-')), 'collector.yaml');
    writeFileSync(file, `elasticsearch:\n${es}agent_tokens: ["agent-token-for-tests-01"]\n`);
    return loadCollectorConfig(file, {});
  };

  it('takes urls and replicas (auto by default)', () => {
    const c = loadEs('  urls: [http://es1:9200, http://es2:9200]\n  replicas: 1\n');
    expect(c.elasticsearch.nodes).toEqual(['http://es1:9200', 'http://es2:9200']);
    expect(c.elasticsearch.replicas).toBe(1);
    expect(loadEs('  url: http://es1:9200\n').elasticsearch.replicas).toBe('auto');
  });

  it('names what is wrong: replicas not auto or 0–10, no URL, a node twice, url and urls together', () => {
    for (const bad of ['x', '1.5', 'Auto', '"2"', '']) {
      expect(() => loadEs(`  url: http://es1:9200\n  replicas: ${bad}\n`)).toThrow(/elasticsearch\.replicas: must be 'auto' or a whole number from 0 to 10/);
    }
    expect(() => loadEs('  urls: []\n')).toThrow(/elasticsearch\.urls: needs at least one URL/);
    expect(() => loadEs('  urls: [http://es1:9200, http://es1:9200]\n')).toThrow(/urls lists a node twice/);
    expect(() => loadEs('  url: http://es1:9200\n  urls: [http://es2:9200]\n')).toThrow(/url and urls together/);
  });
});
