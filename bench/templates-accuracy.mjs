#!/usr/bin/env node
// node bench/templates-accuracy.mjs [--json] [--rounds 7] [--systems HDFS,BGL] [--dir DIR]   (after `npx tsc -b`)
//   --dir: another corpus in the same layout (<Name>/<Name>_2k.log_structured_corrected.csv), e.g. one kept aside for checking
//
// Message-template grouping on the LogHub 2k dev set (/work/shared/datasets/loghub-2k-dev, see
// its README.md): for each system, the `Content` column is fed in order to a fresh
// TemplateMiner (detection/src/templates) and, for comparison, to the older regex masking
// `messageTemplate` (detection/src/template.ts). Prints per system and the mean:
//   GA        grouping accuracy: a line is correct iff the set of lines in its predicted group
//             equals the set of lines sharing its true EventTemplate; GA = correct / lines
//   F1        pairwise grouping F1 (precision/recall over pairs of lines put together)
//   groups×   predicted groups / true templates (over-split when > 1)
// and the miner's throughput (messages/s, median of several timed passes over all Content,
// a fresh miner per system per pass, one core).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LOGHUB_DEV = resolve(REPO_ROOT, '..', 'shared', 'datasets', 'loghub-2k-dev');

/** RFC 4180-ish CSV: quoted fields may hold commas, newlines and doubled quotes. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The dev set: [{ name, contents: string[], truth: string[] }] (systems with a structured CSV). */
export function loadDevSet(dir = LOGHUB_DEV, only) {
  if (!existsSync(dir)) return [];
  const systems = [];
  for (const name of readdirSync(dir).sort()) {
    if (only && !only.includes(name)) continue;
    const file = join(dir, name, `${name}_2k.log_structured_corrected.csv`);
    if (!existsSync(file)) continue;
    const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'));
    const ci = header.indexOf('Content');
    const ti = header.indexOf('EventTemplate');
    const data = rows.filter((r) => r.length === header.length);
    systems.push({ name, contents: data.map((r) => r[ci]), truth: data.map((r) => r[ti]) });
  }
  return systems;
}

/** GA, pairwise F1 and groups / true templates of a predicted grouping against the truth. */
export function groupingScores(predicted, truth) {
  const n = truth.length;
  const byPred = new Map();
  const byTrue = new Map();
  const joint = new Map();
  for (let i = 0; i < n; i++) {
    byPred.set(predicted[i], (byPred.get(predicted[i]) ?? 0) + 1);
    byTrue.set(truth[i], (byTrue.get(truth[i]) ?? 0) + 1);
    const k = `${predicted[i]}\u0000${truth[i]}`;
    joint.set(k, (joint.get(k) ?? 0) + 1);
  }
  // A line is correct iff its predicted group and its true group are the same set of lines:
  // the joint cell holds all of both (its size equals both marginals).
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const c = joint.get(`${predicted[i]}\u0000${truth[i]}`);
    if (c === byPred.get(predicted[i]) && c === byTrue.get(truth[i])) correct++;
  }
  const pairs = (m) => {
    let s = 0;
    for (const v of m.values()) s += (v * (v - 1)) / 2;
    return s;
  };
  const tp = pairs(joint);
  const pp = pairs(byPred);
  const tpairs = pairs(byTrue);
  const precision = pp === 0 ? 1 : tp / pp;
  const recall = tpairs === 0 ? 1 : tp / tpairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ga: n === 0 ? 1 : correct / n, f1, precision, recall, groups: byPred.size, templates: byTrue.size, overSplit: byPred.size / byTrue.size };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the accuracy comparison and the throughput measurement; returns { systems, mean, throughput }. */
export async function templatesAccuracy({ rounds = 7, only, dir = LOGHUB_DEV, minerOptions = {}, progress = () => {} } = {}) {
  const { TemplateMiner } = await import(pathToFileURL(join(REPO_ROOT, 'detection/dist/templates/index.js')).href);
  const { messageTemplate } = await import(pathToFileURL(join(REPO_ROOT, 'detection/dist/template.js')).href);
  const systems = loadDevSet(dir, only);
  const rows = [];
  for (const { name, contents, truth } of systems) {
    progress(`templates: ${name}`);
    const miner = new TemplateMiner(minerOptions);
    const predicted = contents.map((c) => miner.match(c).id);
    const old = contents.map((c) => messageTemplate(c));
    rows.push({ name, lines: contents.length, miner: groupingScores(predicted, truth), old: groupingScores(old, truth) });
  }
  const avg = (f) => (rows.length ? rows.reduce((s, r) => s + f(r), 0) / rows.length : NaN);
  const mean = {
    miner: { ga: avg((r) => r.miner.ga), f1: avg((r) => r.miner.f1), overSplit: avg((r) => r.miner.overSplit) },
    old: { ga: avg((r) => r.old.ga), f1: avg((r) => r.old.f1), overSplit: avg((r) => r.old.overSplit) },
  };
  // Throughput: a fresh miner per system per pass (learning included), all Content.
  const total = systems.reduce((s, x) => s + x.contents.length, 0);
  const pass = () => {
    const started = process.hrtime.bigint();
    for (const { contents } of systems) {
      const m = new TemplateMiner(minerOptions);
      for (const c of contents) m.match(c);
    }
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  for (let i = 0; i < 2; i++) pass(); // warm-up
  const secs = [];
  for (let i = 0; i < rounds; i++) {
    progress(`templates: throughput pass ${i + 1} / ${rounds}`);
    secs.push(pass());
  }
  progress('templates: floods of distinct messages');
  const floods = floodCosts(TemplateMiner, minerOptions);
  progress('');
  const s = median(secs);
  return { corpus: dir === LOGHUB_DEV ? undefined : dir, systems: rows, mean, throughput: { messages: total, rounds, medianSeconds: s, messagesPerSecond: total / s, microsPerMessage: (s * 1e6) / total }, floods };
}

/**
 * µs per message when every message is new (each a miss, compared with up to maxScan
 * templates): what a hostile or free-text source costs. Deterministic inputs: 80 common words,
 * 38–40 dotted names (lengths vary, so templates of other lengths are tried too), a fixed prefix
 * and 30–60 words.
 */
export function floodCosts(TemplateMiner, minerOptions = {}) {
  const words = 'the of and to in is was for on that with as by at from this be are or an it which not have has had but were been their more can will would about other into after than then them these some could only also its over such like just when make many most made may new time part any very well'.split(' ');
  let seed = 7;
  const pick = () => words[((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % words.length)];
  const n = (base, spread) => base + ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % spread);
  const sets = {
    'words (80 each)': Array.from({ length: 2000 }, () => Array.from({ length: 80 }, pick).join(' ')),
    'dotted names (38–40)': Array.from({ length: 2000 }, () => Array.from({ length: n(38, 3) }, () => `${pick()}.${pick()}.${pick()}`).join(' ')),
    'prefix + 30–60 words': Array.from({ length: 3000 }, (_, i) => `Prompt from user ${i % 97}: ${Array.from({ length: n(30, 31) }, pick).join(' ')}`),
  };
  const out = {};
  for (const [name, lines] of Object.entries(sets)) {
    const m = new TemplateMiner(minerOptions);
    const started = process.hrtime.bigint();
    for (const l of lines) m.match(l);
    out[name] = Number(process.hrtime.bigint() - started) / 1000 / lines.length;
  }
  return out;
}

/** Markdown table of a templatesAccuracy() result. */
export function templatesAccuracyReport(r) {
  const f = (x) => x.toFixed(3);
  return [
    '',
    `Message-template grouping, ${r.corpus ?? 'LogHub 2k dev set'} (Content in order, a fresh miner per system)`,
    '',
    '| system | GA miner | GA old | F1 miner | F1 old | groups/templates miner | old | groups miner | templates |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.systems.map((s) => `| ${s.name} | ${f(s.miner.ga)} | ${f(s.old.ga)} | ${f(s.miner.f1)} | ${f(s.old.f1)} | ${s.miner.overSplit.toFixed(2)} | ${s.old.overSplit.toFixed(2)} | ${s.miner.groups} | ${s.miner.templates} |`),
    `| **mean** | **${f(r.mean.miner.ga)}** | ${f(r.mean.old.ga)} | **${f(r.mean.miner.f1)}** | ${f(r.mean.old.f1)} | ${r.mean.miner.overSplit.toFixed(2)} | ${r.mean.old.overSplit.toFixed(2)} | | |`,
    '',
    `Miner throughput: ${Math.round(r.throughput.messagesPerSecond).toLocaleString()} messages/s (${r.throughput.microsPerMessage.toFixed(2)} µs/message, median of ${r.throughput.rounds} passes over ${r.throughput.messages.toLocaleString()} messages, learning included)`,
    `Floods of distinct messages (every one new), µs/message: ${Object.entries(r.floods).map(([k, v]) => `${k} ${v.toFixed(0)}`).join('; ')}`,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, rounds: { type: 'string', default: '7' }, systems: { type: 'string' }, dir: { type: 'string' } } });
  const r = await templatesAccuracy({
    dir: values.dir ? resolve(values.dir) : undefined,
    rounds: Number(values.rounds),
    only: values.systems ? values.systems.split(',') : undefined,
    progress: (msg) => process.stderr.write(`\r\x1b[K${msg}`),
  });
  console.log(values.json ? JSON.stringify(r, null, 2) : templatesAccuracyReport(r));
}
