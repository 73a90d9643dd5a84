#!/usr/bin/env node
// node bench/log-mask.mjs [--lines 300000] [--rounds 7]     (after npx tsc -b)
//
// What issue #14's URL-credential masking costs the logger: StackLens' pino logger
// (common/src/log.ts) with its streamWrite hook (maskUrlCredentials on every serialized
// line) beside the same logger without the hook, side by side in one run, writing to a
// stream that discards (CPU only: the worst case for the ratio; a real write to a file or a
// pipe costs more than the whole logger). Three kinds of line: the usual ones (no URL), lines
// with a URL without credentials, and lines with credentials (the rare case that does the
// work). Prints ns per line for each, the ratio masked/plain (median of --rounds, rounds
// interleaved), and the hook alone: maskUrlCredentials on the same serialized lines.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loggerOptions, maskUrlCredentials } from '@stacklens/common';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '7' } } });
const LINES = Number(values.lines);
const ROUNDS = Number(values.rounds);

// Discards, synchronously, like pino's own sync destination minus the syscall.
const dest = () => ({ write() {} });
const masked = pino(loggerOptions('bench', 'info'), dest());
const { hooks: _hooks, ...plainOptions } = loggerOptions('bench', 'info');
const plain = pino(plainOptions, dest());
if (!masked[pino.symbols.hooksSym].streamWrite || plain[pino.symbols.hooksSym].streamWrite) throw new Error('expected the hook on one logger only');

const password = `pw${Math.random().toString(36).slice(2)}`;
// What the collector and agent log most: request lines, batch acks, rule runs (no URL).
const kinds = {
  'no URL (typical)': (log, i) => log.info({ request_id: `agent-1-${i}`, events: 2048, indexed: 2046, duplicate: 2, ms: 41 }, 'batch indexed'),
  'URL, no credentials': (log, i) => log.info({ url: 'http://collector:8080/v1/events', attempt: i % 5, err: 'connect ECONNREFUSED 10.0.0.7:8080' }, 'ship failed; retrying'),
  'URL with credentials': (log, i) => log.info({ listen: 'http://0.0.0.0:8080', elasticsearch: [`http://elastic:${password}@es-${i % 3}:9200`] }, 'collector listening'),
};

function time(log, fn) {
  const started = process.hrtime.bigint();
  for (let i = 0; i < LINES; i++) fn(log, i);
  return Number(process.hrtime.bigint() - started) / LINES;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The serialized lines a kind produces (what the hook sees). */
function serialized(fn) {
  const lines = [];
  const log = pino(plainOptions, { write: (s) => lines.push(s) });
  for (let i = 0; i < 1000; i++) fn(log, i);
  return lines;
}
function timeHook(lines) {
  const started = process.hrtime.bigint();
  let n = 0;
  for (let i = 0; i < LINES; i++) n += maskUrlCredentials(lines[i % lines.length]).length;
  if (n === 0) throw new Error('unreachable');
  return Number(process.hrtime.bigint() - started) / LINES;
}

if (maskUrlCredentials(`http://elastic:${password}@es:9200`).includes(password)) throw new Error('maskUrlCredentials does not mask');

const rows = [];
for (const [kind, fn] of Object.entries(kinds)) {
  time(masked, fn); // warm-up
  time(plain, fn);
  const plains = [];
  const maskeds = [];
  const ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    let p, m;
    if (r % 2) (p = time(plain, fn)), (m = time(masked, fn));
    else (m = time(masked, fn)), (p = time(plain, fn));
    plains.push(p);
    maskeds.push(m);
    ratios.push(m / p);
  }
  const lines = serialized(fn);
  rows.push({ kind, plain: median(plains), masked: median(maskeds), ratio: median(ratios), hook: median(Array.from({ length: ROUNDS }, () => timeHook(lines))), bytes: lines.reduce((a, l) => a + l.length, 0) / lines.length });
}

console.log(`StackLens' pino logger, output discarded; ${LINES.toLocaleString()} lines × ${ROUNDS} rounds (medians), node ${process.version}`);
console.log(`${'line'.padEnd(22)} ${'bytes'.padStart(6)} ${'plain ns/line'.padStart(14)} ${'masked ns/line'.padStart(15)} ${'ratio'.padStart(7)} ${'hook alone ns'.padStart(14)} ${'hook/plain'.padStart(11)}`);
for (const r of rows) console.log(`${r.kind.padEnd(22)} ${r.bytes.toFixed(0).padStart(6)} ${r.plain.toFixed(0).padStart(14)} ${r.masked.toFixed(0).padStart(15)} ${r.ratio.toFixed(3).padStart(7)} ${r.hook.toFixed(0).padStart(14)} ${`${((100 * r.hook) / r.plain).toFixed(1)}%`.padStart(11)}`);
