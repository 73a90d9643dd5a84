// #19 the README's examples work when copied: every ```yaml block is validated by the loader
// that would read it — agent.yaml, collector.yaml (a snippet inside the smallest collector.yaml
// around it), a rule file, the CLI's cli.yaml — with every ${VARIABLE} it names set. A block
// of a kind this test does not know fails it, so a new example cannot go unchecked.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadAgentConfig } from '@stacklens/agent';
import { loadCollectorConfig } from '@stacklens/collector';
import { loadRuleFile } from '@stacklens/detection';
import { REPO, tempDir } from './helpers.js';

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => ({ text: m[1], line: readme.slice(0, m.index).split('\n').length + 1 }));
const COLLECTOR_KEYS = ['listen', 'elasticsearch', 'agent_tokens', 'api', 'integrations', 'chat', 'rules_dir', 'detection', 'tls', 'bulk', 'ingest', 'outbox', 'message_templates', 'rate_limits', 'metrics', 'max_body_bytes'];

/** Every ${NAME} the text names, set to a value long enough for a token. */
const envFor = (text: string) => Object.fromEntries([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}/g)].map((m) => [m[1], `example-${m[1].toLowerCase()}-0123456789`]));

function kindOf(text: string): 'agent' | 'inputs' | 'collector' | 'rule' | 'cli' | undefined {
  if (/^ {2}- paths:/m.test(text) && !/^inputs:/m.test(text)) return 'inputs';
  const doc = parse(text) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') return undefined;
  const keys = Object.keys(doc);
  if (keys.includes('inputs') || keys.includes('collector')) return 'agent';
  if (keys.includes('name') && keys.includes('type') && keys.includes('severity')) return 'rule';
  if (keys.every((k) => k === 'url' || k === 'token')) return 'cli';
  if (keys.every((k) => COLLECTOR_KEYS.includes(k))) return 'collector';
  return undefined;
}

describe('README examples', () => {
  it('the README has YAML examples', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  it.each(blocks.map((b) => [`README.md:${b.line}`, b] as const))('%s passes the loader that reads it', (_where, { text }) => {
    const kind = kindOf(text);
    expect(kind, 'a YAML block of a kind this test knows (agent, collector, rule, cli)').toBeDefined();
    const dir = tempDir();
    mkdirSync(join(dir, 'rules'));
    const env = { ...envFor(text), ...envFor('${STACKLENS_AGENT_TOKEN}') };
    const file = join(dir, 'example.yaml');
    switch (kind) {
      case 'agent':
        writeFileSync(file, text);
        expect(() => loadAgentConfig(file, env)).not.toThrow();
        return;
      case 'inputs':
        writeFileSync(file, `collector:\n  url: http://127.0.0.1:8080\n  token: \${STACKLENS_AGENT_TOKEN}\ninputs:\n${text}`);
        expect(() => loadAgentConfig(file, env)).not.toThrow();
        return;
      case 'collector': {
        // A snippet stands inside the smallest collector.yaml: the keys it does not set.
        const has = (k: string) => new RegExp(`^${k}:`, 'm').test(text);
        const base = [
          has('listen') ? '' : 'listen: 127.0.0.1:8080\n',
          has('elasticsearch') ? '' : 'elasticsearch:\n  url: http://127.0.0.1:9200\n',
          has('agent_tokens') ? '' : 'agent_tokens: ["${STACKLENS_AGENT_TOKEN}"]\n',
        ].join('');
        writeFileSync(file, `${base}${text}`);
        expect(() => loadCollectorConfig(file, env)).not.toThrow();
        return;
      }
      case 'rule':
        writeFileSync(join(dir, 'rules', 'rule.yml'), text);
        expect(() => loadRuleFile(join(dir, 'rules', 'rule.yml'), env)).not.toThrow();
        return;
      case 'cli': {
        const doc = parse(text) as Record<string, unknown>;
        expect(typeof doc.url).toBe('string');
        expect(() => new URL(String(doc.url))).not.toThrow();
        return;
      }
    }
  });
});
