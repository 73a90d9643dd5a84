// stacklens rules test <rule.yml|dir> <logfile>: replay a log offline through rules and print
// the incidents they would open — write and tune rules without a running stack.
// stacklens rules import <elastalert rules…>: convert ElastAlert2 rules (rules-import.ts).
// stacklens rules check <rule.yml|dir> [--collector URL]: validate rule files, and show which
// rules a running collector finds failing at evaluation.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ContainerEnvelope, EventBuilder, FORMATS, REDACT_DEFAULTS, type Format, type InputConfig } from '@stacklens/agent';
import type { WireEvent } from '@stacklens/common';
import { dataStreamName } from '@stacklens/common';
import { loadRules, Replay, type Incident } from '@stacklens/detection';
import { RULES_IMPORT_HELP, rulesImportCommand } from './rules-import.js';
import { PROGRESS_FROM_BYTES, Progress } from './progress.js';
import { headerOf } from './header-option.js';
import { fileLines } from './file-lines.js';
import { cliConfig } from './collector-client.js';

export const RULES_CHECK_HELP = `Usage: stacklens rules check [<rule.yml|rules-dir>] [--collector URL] [--token TOKEN]

Validates rule files (file:line: key: reason for each bad one) and, with --collector, asks
that running collector (GET /api/rules; --token or $STACKLENS_TOKEN, a viewer token)
which rules are failing at evaluation, with the reason and since when. Exits 1 when a file
is invalid or a rule is failing.
Example: stacklens rules check rules/ --collector http://127.0.0.1:8080`;

export const RULES_HELP = `Usage: stacklens rules test <rule.yml|rules-dir> <logfile> [--format pos|chatbot|json|plain]
                            [--pattern NAME|GROK] [--dataset NAME] [--namespace default] [--json]

Replays a log file through the rules, offline, in log time (timestamps from the lines), and
prints what would fire: incidents with counts, first/last time, status and sample lines.
  --format     how to parse the log (default: detected from the first lines, and said)
  --pattern    plain lines: the header pattern (a shipped name, a grok pattern; default auto,
               chosen from the first lines as the agent chooses it)
  --dataset    the dataset the lines belong to (default: the format's name)
  --namespace  the namespace (default: default); rules read logs-<dataset>-<namespace>
  --json       print the incidents as JSON instead of text
Files over 1 MiB show a progress bar on stderr.
Example: stacklens rules test rules/ /var/log/pos/pos.log

${RULES_CHECK_HELP}

${RULES_IMPORT_HELP}`;


/** stacklens rules check: rule files valid, and (with --collector) none failing where they run. */
export async function rulesCheckCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { collector: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${RULES_CHECK_HELP}\n`);
    return 0;
  }
  const [rulesPath] = positionals;
  if (!rulesPath && !values.collector) {
    process.stderr.write(`stacklens rules check: expected a rule file or directory, or --collector\n\n${RULES_CHECK_HELP}\n`);
    return 2;
  }
  let bad = 0;
  if (rulesPath) {
    const { rules, errors } = loadRules(rulesPath);
    for (const e of errors) process.stderr.write(`${e.message}\n`);
    process.stdout.write(`${rules.length} rule(s) valid, ${errors.length} invalid\n`);
    bad += errors.length;
  }
  if (values.collector) {
    const url = `${values.collector.replace(/\/+$/, '')}/api/rules`;
    // As every command that talks to a collector: --token, $STACKLENS_TOKEN (or the older $STACKLENS_API_TOKEN), cli.yaml.
    const token = values.token ?? process.env.STACKLENS_TOKEN ?? process.env.STACKLENS_API_TOKEN ?? cliConfig()?.token;
    let body: { rules: { name: string; file: string; state?: string; error?: string; failing_since?: string; failures?: number }[]; errors: { message: string }[] };
    try {
      const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      body = (await res.json()) as typeof body;
    } catch (err) {
      process.stderr.write(`stacklens rules check: cannot read ${url}: ${(err as Error).message}\n`);
      return 1;
    }
    for (const e of body.errors) process.stderr.write(`collector: ${e.message}\n`);
    const failing = body.rules.filter((r) => r.state === 'failing');
    for (const r of failing) process.stdout.write(`failing: ${r.name} (${r.file}) since ${r.failing_since}, ${r.failures} evaluation(s) in a row: ${r.error}\n`);
    const count = (state: string) => body.rules.filter((r) => r.state === state).length;
    process.stdout.write(`collector: ${body.rules.length} rule(s) loaded — ${count('ok')} ok, ${failing.length} failing, ${count('not_evaluated')} not evaluated yet; ${body.errors.length} file(s) not loaded\n`);
    bad += failing.length + body.errors.length;
  }
  return bad > 0 ? 1 : 0;
}

export async function rulesCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'import') return rulesImportCommand(argv.slice(1));
  if (argv[0] === 'check') return rulesCheckCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { format: { type: 'string' }, pattern: { type: 'string' }, dataset: { type: 'string' }, namespace: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const [action, rulesPath, logFile] = positionals;
  if (values.help) {
    process.stdout.write(`${RULES_HELP}\n`);
    return 0;
  }
  if (action !== 'test' || !rulesPath || !logFile || positionals.length > 3) {
    process.stderr.write(`stacklens rules: expected "test <rule.yml|dir> <logfile>" or "import <elastalert rules…>"\n\n${RULES_HELP}\n`);
    return 2;
  }
  if (values.format !== undefined && !(FORMATS as readonly string[]).includes(values.format)) {
    process.stderr.write(`stacklens rules: --format must be one of ${FORMATS.join(', ')}, got "${values.format}"\n`);
    return 2;
  }
  // The files first: a missing log is told before anything about the rules.
  let size: number;
  try {
    size = statSync(logFile).size;
  } catch (err) {
    process.stderr.write(`stacklens rules: cannot read ${logFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}\n`);
    return 1;
  }
  // No --format: the one that parses most of the first lines, as a person would pick it.
  let format = values.format as Format | undefined;
  if (!format) {
    const guess = await detectFormat(logFile);
    format = guess.format;
    process.stderr.write(guess.sampled === 0 ? `format: ${format} (the file has no lines to detect a format from)\n` : `format: ${format} (detected: it parses ${guess.parsed} of the first ${guess.sampled} lines; --format to choose)\n`);
  }
  const dataset = values.dataset ?? format;
  const namespace = values.namespace ?? 'default';
  const stream = dataStreamName(dataset, namespace);

  const { rules, errors } = loadRules(rulesPath);
  for (const e of errors) process.stderr.write(`${e.message}\n`);
  if (rules.length === 0) {
    process.stderr.write('stacklens rules: no valid rule to test\n');
    return 1;
  }
  const readers = rules.filter((r) => r.indexMatcher.test(stream));
  if (readers.length < rules.length) {
    const others = rules.filter((r) => !readers.includes(r)).map((r) => `${r.spec.name} (reads ${r.index})`);
    process.stderr.write(`note: these rules do not read ${stream} and see nothing: ${others.join(', ')}\n`);
  }

  const input = { paths: [logFile], format, dataset, namespace, max_line_bytes: 1024 * 1024, close_inactive: 0, redact: REDACT_DEFAULTS } as InputConfig; // redacted as the agent ships it, so rules see what Elasticsearch holds
  const header = await headerOf(logFile, format, values.pattern);
  if (header instanceof Error) {
    process.stderr.write(`stacklens rules: --pattern: ${header.message}\n`);
    return 2;
  }
  if (header) Object.assign(input, { pattern: header });
  const builder = new EventBuilder('rules-test', hostname(), input);
  const replay = new Replay(rules);
  const progress = size >= PROGRESS_FROM_BYTES ? new Progress(size, 'replayed') : undefined;
  let offset = 0;
  let lines = 0;
  let unparsed = 0;
  // Container formats: the runtime's envelope comes off first and partial lines are joined, as in the agent.
  const built: { event: WireEvent; original: string }[] = [];
  const envelope =
    format === 'docker' || format === 'cri'
      ? new ContainerEnvelope(format, input.max_line_bytes, (r) => built.push({ event: builder.build(r.text, logFile, 'offline', r.offset, r), original: r.text }))
      : undefined;
  const replayBuilt = async () => {
    for (const { event, original } of built.splice(0)) {
      if (event.error) {
        unparsed++;
        continue;
      }
      const doc = event.doc;
      doc.event = { ...(doc.event as object), original };
      await replay.add(doc, stream);
    }
  };
  for await (const { text: line, offset: lineOffset, end } of fileLines(logFile)) {
    offset = end;
    if (line.trim() === '') continue;
    lines++;
    if (envelope) envelope.push(line, lineOffset, offset);
    else built.push({ event: builder.build(line, logFile, 'offline', lineOffset), original: line });
    await replayBuilt();
    progress?.update(offset);
  }
  envelope?.flush();
  await replayBuilt();
  progress?.done();
  const incidents = await replay.finish();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ lines, unparsed, incidents }, null, 2)}\n`);
  } else {
    process.stdout.write(`${lines} lines (${unparsed} unparsed), ${replay.matched} rule matches, ${rules.length} rule(s) → ${incidents.length} incident(s)\n`);
    if (lines > 0 && unparsed / lines > 0.5) {
      const better = await betterFormat(logFile, format);
      process.stderr.write(`note: ${unparsed} of ${lines} lines did not parse as ${format}${better ? `; --format ${better.format} parses ${better.parsed} of the first ${better.sampled}` : ''}\n`);
    }
    process.stdout.write(`\n${ruleTable(rules.map((r) => r.spec), incidents)}\n`);
    for (const inc of incidents) process.stdout.write(describe(inc));
  }
  return errors.length > 0 ? 1 : 0;
}

/** Per rule, before the details: what it would open. */
function ruleTable(specs: { name: string; severity: string; type: string }[], incidents: Incident[]): string {
  const rows = specs.map((r) => {
    const mine = incidents.filter((i) => i.rule === r.name);
    return [r.name, r.severity, r.type, String(mine.length), String(mine.reduce((n, i) => n + i.count, 0))];
  });
  const head = ['RULE', 'SEVERITY', 'TYPE', 'INCIDENTS', 'EVENTS IN THEM'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

const SAMPLE_LINES = 200;

/** How many of the first lines each format parses. */
async function formatScores(file: string): Promise<{ format: Format; parsed: number; sampled: number }[]> {
  const sample: string[] = [];
  for await (const { text } of fileLines(file)) {
    if (text.trim() === '') continue;
    sample.push(text);
    if (sample.length >= SAMPLE_LINES) break;
  }
  // Specific formats first: plain parses anything, so it wins only when nothing else does.
  // Container envelopes are recognized by their shape (the agent takes them off before parsing).
  const order: Format[] = ['pos', 'chatbot', 'docker', 'cri', 'json', ...FORMATS.filter((f) => !['pos', 'chatbot', 'json', 'docker', 'cri'].includes(f))] as Format[];
  const scores: { format: Format; parsed: number; sampled: number }[] = [];
  for (const format of [...new Set(order)]) {
    if (format === 'docker' || format === 'cri') {
      scores.push({ format, parsed: sample.filter(format === 'docker' ? isDockerLine : (l) => CRI_LINE.test(l)).length, sampled: sample.length });
      continue;
    }
    const input = { paths: [file], format, dataset: format, namespace: 'default', max_line_bytes: 1024 * 1024, close_inactive: 0, redact: REDACT_DEFAULTS } as InputConfig;
    if (format === 'plain') {
      const header = await headerOf(file, format, undefined);
      if (header && !(header instanceof Error)) Object.assign(input, { pattern: header });
    }
    let parsed = 0;
    try {
      const builder = new EventBuilder('rules-test', hostname(), input);
      for (const [i, line] of sample.entries()) if (!builder.build(line, file, 'offline', i).error) parsed++;
    } catch {
      parsed = 0;
    }
    scores.push({ format, parsed, sampled: sample.length });
  }
  return scores;
}

const CRI_LINE = /^\S+ (stdout|stderr) [FP] /;
function isDockerLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const o = JSON.parse(line);
    return typeof o?.log === 'string' && typeof o?.stream === 'string';
  } catch {
    return false;
  }
}

export async function detectFormat(file: string): Promise<{ format: Format; parsed: number; sampled: number }> {
  const scores = await formatScores(file);
  // The first with the most parsed lines (plain, last, only when it alone does better); nothing to read: plain.
  const best = scores.reduce((b, s) => (s.parsed > b.parsed ? s : b), scores[0]);
  return best.parsed > 0 ? best : (scores.find((s) => s.format === 'plain') ?? best);
}

async function betterFormat(file: string, than: Format): Promise<{ format: Format; parsed: number; sampled: number } | undefined> {
  const scores = await formatScores(file);
  const mine = scores.find((s) => s.format === than)?.parsed ?? 0;
  const best = scores.filter((s) => s.format !== than).reduce<{ format: Format; parsed: number; sampled: number } | undefined>((b, s) => (!b || s.parsed > b.parsed ? s : b), undefined);
  return best && best.parsed > mine ? best : undefined;
}

function describe(inc: Incident): string {
  const out = [
    '',
    `${inc.rule} [${inc.severity}] ${inc.group_key || '(all events)'} — ${inc.status}${inc.reopen_count ? `, reopened ${inc.reopen_count}×` : ''}`,
    `  template: ${inc.message_template}`,
    `  count: ${inc.count} · first ${inc.first_seen} · last ${inc.last_seen}`,
    `  ${inc.summary}`,
  ];
  for (const s of inc.samples.slice(0, 3)) {
    const original = (s as any).event?.original ?? s.message;
    out.push(`  | ${String(original).slice(0, 300)}`);
  }
  return `${out.join('\n')}\n`;
}
