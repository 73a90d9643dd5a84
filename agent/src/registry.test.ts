import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from './registry.js';

describe('Registry', () => {
  it('persists atomically and survives a reload', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reg-'));
    const r = new Registry(dir);
    r.commit('fpA', '/var/log/a.log', 120, 0);
    r.flush();
    expect(existsSync(join(dir, 'registry.json.tmp'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')).files.fpA.offset).toBe(120);
    expect(new Registry(dir).get('fpA')?.offset).toBe(120);
  });

  it('never moves an offset back within a generation, and accepts a newer generation', () => {
    const r = new Registry(mkdtempSync(join(tmpdir(), 'reg-')));
    r.commit('fp', '/a', 500, 0);
    r.commit('fp', '/a', 300, 0);
    expect(r.get('fp')?.offset).toBe(500);
    r.commit('fp', '/a', 10, 1);
    expect(r.get('fp')).toMatchObject({ offset: 10, generation: 1 });
    r.commit('fp', '/a', 900, 0); // a late commit of the old generation
    expect(r.get('fp')).toMatchObject({ offset: 10, generation: 1 });
  });

  it('forgets files not committed to within the grace period, unless still tailed', () => {
    const r = new Registry(mkdtempSync(join(tmpdir(), 'reg-')));
    r.commit('gone', '/old.log', 1, 0);
    r.commit('tailed', '/idle.log', 1, 0);
    r.commit('fresh', '/new.log', 1, 0);
    const day = 86_400_000;
    const later = Date.now() + 8 * day;
    expect(r.cleanup(7 * day, new Set(['tailed']), later)).toBe(2); // 'fresh' is 8 days old by then too
    expect(r.get('gone')).toBeUndefined();
    expect(r.get('tailed')).toBeDefined();
    expect(r.cleanup(7 * day, new Set(), Date.now())).toBe(0);
  });
});
