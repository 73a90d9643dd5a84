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
