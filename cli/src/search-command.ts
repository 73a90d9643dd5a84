// stacklens search '<query>': full-text search of a collector's logs and chat messages
// (GET /api/search), newest first; with --export FILE, every match streamed to a CSV or
// NDJSON file (GET /api/search/export) with a progress bar, checked against the count the
// collector declared — an export cut short leaves no file behind.
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { COLLECTOR_OPTIONS_HELP, CollectorError, collectorTarget, get, getJson, refusal, type CollectorTarget, type Query } from './collector-client.js';
import { Progress } from './progress.js';
import { jsonLine, paint, LEVEL_COLOUR, printable } from './terminal.js';

export const SEARCH_HELP = `Usage: stacklens search [<query>] [--source pos,chatbot,chat] [--from TIME] [--to TIME]
                        [--channel NAME] [--user NAME] [--size N] [--json]
                        [--export FILE [--format csv|ndjson] [--fields a,b,c]]
                        [--url URL] [--token TOKEN]
Searches the logs and chat messages a collector indexed, newest first. The query takes words,
"phrases", -not and a | b (all words must match). Without --export, prints the newest
--size matches (default 20), one line each; with --export, writes every match to FILE.
  --source       pos, chatbot and/or chat (comma list; default: all)
  --from, --to   ISO 8601 times, now, or now-1h (default: all time)
  --channel      chat messages of one channel; --user: of one user
  --size         how many matches to print (1–500)
  --json         print the collector's answer as JSON
  --export FILE  stream every match to FILE (- for stdout), with a progress bar on stderr
  --format       csv or ndjson (default: from FILE's extension, .ndjson/.jsonl → ndjson, else csv)
  --fields       the columns (default: @timestamp, data_stream.dataset, log.level,
                 service.name, host.name, message)
${COLLECTOR_OPTIONS_HELP}
Example:
  STACKLENS_URL=http://127.0.0.1:8080 STACKLENS_TOKEN=… stacklens search '"no price" -test' --source pos --from now-1h
  stacklens search '"no price"' --from now-24h --export missing-price.csv --fields @timestamp,pos.store_id,error.type,message`;

interface Hit {
  '@timestamp': string;
  source: string;
  message: string;
  highlight: string[];
  log?: { level?: string };
}
interface Page {
  total: number;
  hits: Hit[];
  partial?: boolean;
  warnings?: string[];
}

export async function searchCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        source: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        channel: { type: 'string' },
        user: { type: 'string' },
        size: { type: 'string' },
        json: { type: 'boolean' },
        export: { type: 'string' },
        format: { type: 'string' },
        fields: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`stacklens search: ${(err as Error).message}\n\n${SEARCH_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${SEARCH_HELP}\n`);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`stacklens search: one query expected (quote it: stacklens search 'a b -c'), got ${positionals.length} arguments\n`);
    return 2;
  }
  const filters: Query = { q: positionals[0], source: values.source, from: values.from, to: values.to, channel: values.channel, user: values.user };
  try {
    const target = collectorTarget(values);
    if (values.export !== undefined) {
      if (values.size !== undefined || values.json) throw new CollectorError('--export writes every match: --size and --json apply to printed results only');
      return await exportTo(target, values.export, filters, values.format, values.fields);
    }
    if (values.format !== undefined || values.fields !== undefined) throw new CollectorError('--format and --fields apply to --export');
    const size = values.size === undefined ? 20 : Number(values.size);
    if (!Number.isInteger(size) || size < 1 || size > 500) throw new CollectorError(`--size: "${values.size}" is not a whole number from 1 to 500`);
    const page = await getJson<Page>(target, '/api/search', { ...filters, size });
    if (values.json) process.stdout.write(`${jsonLine(page)}\n`);
    else printHits(page);
    return 0;
  } catch (err) {
    if (err instanceof CollectorError) {
      process.stderr.write(`stacklens search: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}


function printHits(page: Page): void {
  for (const h of page.hits) {
    // The highlighted fragments say where the words matched; without them, the message's first line.
    const text = h.highlight.length ? h.highlight.join(' … ') : h.message.split('\n', 1)[0];
    // Made printable before the marks become bold: the message's own escape sequences are shown, not obeyed.
    const shown = printable(text).replace(/<mark>(.*?)<\/mark>/g, (_m, w: string) => paint('1', w));
    const level = printable(String(h.log?.level ?? '')).toLowerCase();
    process.stdout.write(`${paint('2', printable(String(h['@timestamp'])))}  ${printable(String(h.source)).padEnd(8)} ${paint(LEVEL_COLOUR[level], level.toUpperCase().padEnd(5))} ${shown}\n`);
  }
  const more = page.total > page.hits.length ? ` (newest first; --size up to 500 for more, --export FILE for all ${page.total.toLocaleString('en-US')})` : '';
  process.stderr.write(`${page.hits.length.toLocaleString('en-US')} of ${page.total.toLocaleString('en-US')} match(es)${more}\n`);
  if (page.partial) process.stderr.write(`warning: some shards failed, results are incomplete: ${printable((page.warnings ?? []).join('; '))}\n`);
}

/** Counts CSV records (RFC 4180: a line break inside quotes is part of a field) across chunks. */
class CsvRecordCounter {
  records = 0;
  private quoted = false;
  add(text: string): void {
    if (!this.quoted && !text.includes('"')) {
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.records++;
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) this.quoted = !this.quoted;
      else if (c === 10 && !this.quoted) this.records++;
    }
  }
}

async function exportTo(target: CollectorTarget, file: string, filters: Query, formatOption: string | undefined, fields: string | undefined): Promise<number> {
  const format = formatOption ?? (/\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : 'csv');
  if (format !== 'csv' && format !== 'ndjson') throw new CollectorError(`--format: "${format}" is not csv or ndjson`);
  const res = await get(target, '/api/search/export', { ...filters, format, fields });
  if (res.statusCode !== 200) throw await refusal(target, res);
  const total = Number(res.headers['x-total-count'] ?? 0);
  const toStdout = file === '-';
  const part = `${file}.part`;
  const out: WriteStream | NodeJS.WriteStream = toStdout ? process.stdout : createWriteStream(part);
  const progress = new Progress(total, 'exported', 'rows');
  const csv = new CsvRecordCounter();
  let ndjsonLines = 0;
  // NDJSON: the collector's last line is its summary ({"export": …}), not a row: held back, checked, not written.
  let held = '';
  let summary: { rows: number; complete: boolean; error?: string } | undefined;
  let cut = false;
  res.setEncoding('utf8');
  // Ctrl-C: no half file left behind, and say so.
  const interrupted = () => {
    res.destroy();
    if (!toStdout) rmSync(part, { force: true });
    process.stderr.write(`\nstacklens search: export interrupted${toStdout ? '' : `; ${file} not written`}\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        let text = chunk;
        if (format === 'ndjson') {
          const all = held + chunk;
          const lastBreak = all.lastIndexOf('\n', all.length - 2);
          text = lastBreak === -1 ? '' : all.slice(0, lastBreak + 1);
          held = all.slice(lastBreak + 1);
          for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) ndjsonLines++;
        } else csv.add(chunk);
        if (text && !out.write(text)) await once(out, 'drain');
        progress.update(format === 'csv' ? Math.max(0, csv.records - 1) : ndjsonLines);
      }
    } catch {
      cut = true;
    }
    if (format === 'ndjson') {
      try {
        summary = JSON.parse(held).export;
      } catch {
        // no summary: the transfer was cut off
      }
    }
    const rows = format === 'csv' ? Math.max(0, csv.records - 1) : ndjsonLines;
    const trailerRows = res.trailers['x-export-rows'];
    const complete = !cut && res.complete && (format === 'csv' ? res.trailers['x-export-complete'] === 'true' && Number(trailerRows) === rows : summary?.complete === true && summary.rows === rows);
    if (!toStdout) {
      (out as WriteStream).end();
      await finished(out as WriteStream);
    }
    if (!complete) {
      const why = summary?.error ?? (cut || !res.complete ? 'the collector cut the transfer off' : `the collector counted ${trailerRows ?? summary?.rows ?? '?'} rows, ${rows} arrived`);
      throw new CollectorError(`export incomplete after ${rows.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows: ${why}${toStdout ? '' : `; ${file} not written`}`);
    }
    if (!toStdout) renameSync(part, file);
    progress.done(rows);
    if (!toStdout) process.stderr.write(`${rows.toLocaleString('en-US')} rows written to ${file} (${format})\n`);
    return 0;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (!toStdout) rmSync(part, { force: true });
  }
}
