#!/usr/bin/env node
// node bench/redact.mjs [--pos-lines 200000] [--rounds 7] [--old <git rev>]
//
// The agent's card redaction before and after issue #12, side by side in one run: the old
// redactor (agent/src/processors/redact.ts at --old, read with `git show`) and the current
// one (the working tree's file), over the LogHub 2k dev set (real lines, many long numbers)
// and over POS lines (the demo's traffic, what the agent ships most). Both are compiled the
// same way here (TypeScript's transpileModule), so the ratio compares the code, not the build.
// Prints ns per line, the ratio new/old, and how many lines each one changed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';
import { posTrafficLine, rng } from '@stacklens/demo';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODULE = 'common/src/redact.ts';
/** Where the redactor lived before it moved to common/ (for --old revisions from then). */
const OLD_MODULE = 'agent/src/processors/redact.ts';
// The last commit with the Luhn-only redactor (before issue #12).
const OLD_REV = '948c516f57900f265addd6449de92c87072dda73';
const LOGHUB = resolve(REPO_ROOT, '..', 'shared', 'datasets', 'loghub-2k-dev');

/** Import a TypeScript module's source as an ES module. */
async function importTs(source) {
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
}

function loghubLines() {
  if (!existsSync(LOGHUB)) return undefined;
  const lines = [];
  for (const system of readdirSync(LOGHUB)) {
    const file = join(LOGHUB, system, `${system}_2k.log`);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    lines.push(...(text.endsWith('\n') ? text.slice(0, -1) : text).split('\n'));
  }
  return lines;
}

/** n POS lines, flat as if read from a file (built strings are ropes, slower to scan). */
function posLines(n) {
  const rand = rng(1);
  let t = Date.parse('2024-11-16T00:00:00Z');
  return Array.from({ length: n }, () => posTrafficLine(rand, 0.05, new Date((t += 50)))).join('\n').split('\n');
}

/** One pass: ns per line, and the lines changed (a fresh Redactor, as each input has its own). */
function pass(mod, lines) {
  const r = new mod.Redactor(mod.REDACT_DEFAULTS);
  let changed = 0;
  const started = process.hrtime.bigint();
  for (const line of lines) if (r.redact(line) !== line) changed++;
  return { nsPerLine: Number(process.hrtime.bigint() - started) / lines.length, changed };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the benchmark and returns its report (markdown). */
export async function redactBench({ posLineCount = 200_000, rounds = 7, oldRev = OLD_REV, progress = () => {} } = {}) {
  const show = (path) => execFileSync('git', ['show', `${oldRev}:${path}`], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let oldSource;
  try {
    oldSource = show(MODULE);
  } catch {
    oldSource = show(OLD_MODULE);
  }
  const oldMod = await importTs(oldSource);
  const newMod = await importTs(readFileSync(join(REPO_ROOT, MODULE), 'utf8'));
  const corpora = [];
  const loghub = loghubLines();
  if (loghub) corpora.push({ name: 'LogHub 2k dev (8 systems)', lines: loghub });
  corpora.push({ name: 'POS lines (demo traffic)', lines: posLines(posLineCount) });

  const rows = [];
  for (const { name, lines } of corpora) {
    // Warm up both, then alternate old and new each round so drift hits both alike.
    pass(oldMod, lines);
    pass(newMod, lines);
    const old = [];
    const neu = [];
    let oldChanged = 0;
    let newChanged = 0;
    for (let i = 0; i < rounds; i++) {
      progress(`redact bench: ${name}, round ${i + 1} / ${rounds}`);
      const o = pass(oldMod, lines);
      const n = pass(newMod, lines);
      old.push(o.nsPerLine);
      neu.push(n.nsPerLine);
      oldChanged = o.changed;
      newChanged = n.changed;
    }
    rows.push({ name, lines: lines.length, old: median(old), neu: median(neu), oldChanged, newChanged });
  }
  progress('');

  const pct = (n, total) => `${n.toLocaleString()} (${((100 * n) / total).toFixed(2)} %)`;
  return [
    '',
    `Card redaction, old (${oldRev.slice(0, 7)}, Luhn only) vs new (working tree), median of ${rounds} rounds, defaults`,
    '',
    '| corpus | lines | old ns/line | new ns/line | new / old | lines changed, old | lines changed, new |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.lines.toLocaleString()} | ${r.old.toFixed(0)} | ${r.neu.toFixed(0)} | ${(r.neu / r.old).toFixed(2)} | ${pct(r.oldChanged, r.lines)} | ${pct(r.newChanged, r.lines)} |`),
    ...(loghub ? [] : ['', `LogHub 2k dev set not found at ${LOGHUB}: only POS lines measured`]),
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { 'pos-lines': { type: 'string', default: '200000' }, rounds: { type: 'string', default: '7' }, old: { type: 'string', default: OLD_REV } } });
  const report = await redactBench({
    posLineCount: Number(values['pos-lines']),
    rounds: Number(values.rounds),
    oldRev: values.old,
    progress: (msg) => process.stderr.write(`\r\x1b[K${msg}`),
  });
  console.log(report);
}
