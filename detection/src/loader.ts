// Loads rule files: every *.yml/*.yaml file in a directory (or one file). Each file stands
// alone: a bad file is reported with file:line: key: reason and the other rules load.
// On a reload, a file that became invalid keeps its last good version running (reported).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYamlConfig } from '@stacklens/common';
import { ruleSchema } from './schema.js';
import { buildRule, type Rule } from './rule.js';

export interface RuleLoadError {
  file: string;
  message: string;
  /** True when an older, valid version of this file's rule is still running. */
  keptPrevious?: boolean;
}

export interface LoadedRules {
  rules: Rule[];
  errors: RuleLoadError[];
}

export function ruleFiles(path: string): string[] {
  const abs = resolve(path);
  let stat;
  try {
    stat = statSync(abs);
  } catch (err) {
    throw new Error(`${abs}: cannot read rules: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) return [abs];
  return readdirSync(abs)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => join(abs, f));
}

/** Load one rule file; throws an Error whose message names file, line and key. */
export function loadRuleFile(file: string, env: Record<string, string | undefined> = process.env): Rule {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  const spec = parseYamlConfig(text, file, ruleSchema, env);
  return buildRule(spec, file);
}

export function loadRules(path: string, previous: Rule[] = [], env: Record<string, string | undefined> = process.env): LoadedRules {
  const rules: Rule[] = [];
  const errors: RuleLoadError[] = [];
  const byName = new Map<string, string>();
  for (const file of ruleFiles(path)) {
    let rule: Rule | undefined;
    try {
      rule = loadRuleFile(file, env);
    } catch (err) {
      const old = previous.find((r) => r.file === file);
      errors.push({ file, message: (err as Error).message, keptPrevious: Boolean(old) || undefined });
      rule = old;
    }
    if (!rule) continue;
    const clash = byName.get(rule.spec.name);
    if (clash) {
      errors.push({ file, message: `${file}: name: "${rule.spec.name}" is already used by ${clash}` });
      continue;
    }
    byName.set(rule.spec.name, file);
    rules.push(rule);
  }
  return { rules, errors };
}
