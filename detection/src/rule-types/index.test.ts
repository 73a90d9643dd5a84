// Every registered rule type is complete, and nothing outside rule-types/ needs its name.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RULE_TYPE_LIST } from './index.js';
import { RULE_TYPE_NAMES } from '../schema.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('the rule type registry', () => {
  it('has one file and one unit test per type, and each descriptor says what it means', () => {
    const files = readdirSync(here);
    for (const d of RULE_TYPE_LIST) {
      expect(files, d.type).toContain(`${d.type}.ts`);
      expect(files, d.type).toContain(`${d.type}.test.ts`);
      expect(d.semantics.length, d.type).toBeGreaterThan(100);
      expect(d.semantics, d.type).toMatch(/ElastAlert2/);
    }
    expect(RULE_TYPE_NAMES).toEqual(RULE_TYPE_LIST.map((d) => d.type));
    expect(RULE_TYPE_NAMES).toContain('blacklist');
    expect(RULE_TYPE_NAMES).toContain('whitelist');
  });

  it('no code outside rule-types/ switches on a type name', () => {
    const src = join(here, '..');
    const names = RULE_TYPE_LIST.map((d) => d.type).join('|');
    const switching = new RegExp(`(type|rule_type)\\s*[!=]==?\\s*'(${names})'`);
    const offenders = readdirSync(src)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => switching.test(readFileSync(join(src, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
