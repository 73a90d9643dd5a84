// Real logs through a generic error rule (#16): one incident per real kind of problem. Plain
// LogHub lines (headers read with pattern auto, as the agent reads them) are replayed through
// `type: any` on warnings and errors; the incidents must be as many as the distinct
// ground-truth templates of those lines — not one per user name, block id or host.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';
// @ts-expect-error — a plain ES module without types (the benchmark's CSV reader)
import { parseCsv } from '../bench/templates-accuracy.mjs';

const LOGHUB = resolve(REPO, '..', 'shared', 'datasets', 'loghub-2k-dev');
const RULE = `name: warnings-and-errors
description: Any warning or error, one incident per kind of message
severity: medium
dataset: plain
filter:
  log.level: [warn, error, fatal]
type: any
window: 1h
`;

/** Distinct ground-truth templates of the lines LogHub marks WARN, ERROR or FATAL. */
function problems(system: string): number {
  const [header, ...rows] = parseCsv(readFileSync(join(LOGHUB, system, `${system}_2k.log_structured_corrected.csv`), 'utf8')) as string[][];
  const level = header.indexOf('Level');
  const template = header.indexOf('EventTemplate');
  return new Set(rows.filter((r) => ['WARN', 'ERROR', 'FATAL'].includes(r[level])).map((r) => r[template])).size;
}

describe.skipIf(!existsSync(LOGHUB))('real logs, a generic error rule: incidents = distinct problems', () => {
  it.each(['Hadoop', 'Zookeeper', 'HDFS'])('%s', (system) => {
    const rule = join(tempDir(), 'rule.yml');
    writeFileSync(rule, RULE);
    const res = spawnSync(process.execPath, [join(REPO, 'cli/dist/cli.js'), 'rules', 'test', rule, join(LOGHUB, system, `${system}_2k.log`), '--format', 'plain', '--json'], { encoding: 'utf8', maxBuffer: 1e8 });
    expect(res.status, res.stderr).toBe(0);
    const { incidents } = JSON.parse(res.stdout);
    const expected = problems(system);
    expect(expected).toBeGreaterThan(0);
    expect(incidents).toHaveLength(expected);
  });
});
