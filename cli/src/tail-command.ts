// stacklens tail: follow a collector's events (and incident changes) as they are indexed,
// through its live tail (GET /api/tail, a WebSocket). One readable line per event —
// time, level, dataset, message, key fields — coloured on a terminal; JSON lines with
// --json. Reconnects on its own (with backoff) when the collector goes away; a refused
// token or a bad filter ends it with the collector's reason.
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { COLLECTOR_OPTIONS_HELP, CollectorError, collectorTarget } from './collector-client.js';
import { jsonLine, paint, LEVEL_COLOUR, SEVERITY_COLOUR, printable } from './terminal.js';

export const TAIL_HELP = `Usage: stacklens tail [--source pos,chatbot,chat] [--query '<words>'] [--store STORE_001]
                      [--level error,warn] [--user ID] [--field name=value]… [--incidents]
                      [--no-events] [--json] [--url URL] [--token TOKEN]
Follows what a collector indexes, as it is indexed: one line per event (time, level, dataset,
message, key fields); with --incidents, also incidents opened, updated, acknowledged and
resolved. Events indexed by this collector show at once, by other collectors within ~2 s.
Reconnects by itself; Ctrl-C to stop.
  --source     pos, chatbot and/or chat (comma list; default: all)
  --query      the search syntax: words (all must match), "phrases", -not, a | b, word*
  --store      pos.store_id is one of these (comma list)
  --level      log.level is one of these (comma list)
  --user       user.id is one of these (comma list)
  --field      name=value: any keyword field (repeat for more; value may be a comma list)
  --incidents  also incident changes (--no-events: only those)
  --json       one JSON object per line, as the collector sends them
${COLLECTOR_OPTIONS_HELP}
Example:
  STACKLENS_URL=http://127.0.0.1:8080 STACKLENS_TOKEN=… stacklens tail --source pos --level error --incidents`;

const RECONNECT_MAX_MS = 15_000;

export async function tailCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      allowNegative: true,
      options: {
        source: { type: 'string' },
        query: { type: 'string' },
        store: { type: 'string' },
        level: { type: 'string' },
        user: { type: 'string' },
        field: { type: 'string', multiple: true },
        incidents: { type: 'boolean' },
        events: { type: 'boolean' },
        json: { type: 'boolean' },
        url: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`stacklens tail: ${(err as Error).message}\n\n${TAIL_HELP}\n`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${TAIL_HELP}\n`);
    return 0;
  }
  const list = (s: string | undefined) => s?.split(',').map((v) => v.trim()).filter(Boolean);
  // Null prototype: a field named "__proto__" or "constructor" is a field like any other.
  const fields: Record<string, string[]> = Object.create(null);
  const add = (name: string, vals: string[] | undefined) => {
    if (vals?.length) fields[name] = [...(fields[name] ?? []), ...vals];
  };
  add('pos.store_id', list(values.store));
  add('log.level', list(values.level));
  add('user.id', list(values.user));
  for (const f of values.field ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`stacklens tail: --field "${f}": expected name=value\n`);
      return 2;
    }
    add(f.slice(0, eq), list(f.slice(eq + 1)));
  }
  const subscription = { source: list(values.source), query: values.query, fields, events: values.events !== false, incidents: values.incidents === true };
  let target;
  try {
    target = collectorTarget(values);
  } catch (err) {
    process.stderr.write(`stacklens tail: ${(err as Error).message}\n`);
    return 1;
  }
  const url = `${target.url.replace(/^http/, 'ws')}/api/tail`;
  const print = values.json ? (m: any) => process.stdout.write(`${jsonLine(m)}\n`) : printReadable;
  // Stdout closed by the reader (| head): stop quietly.
  process.stdout.on('error', () => process.exit(0));

  return new Promise<number>((resolve) => {
    let attempt = 0;
    let stopped = false;
    let current: WebSocket | undefined;
    let retry: NodeJS.Timeout | undefined;
    const stop = () => {
      stopped = true;
      clearTimeout(retry);
      current?.close();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const connect = () => {
      const ws = new WebSocket(url, { headers: target.token ? { authorization: `Bearer ${target.token}` } : {}, handshakeTimeout: 10_000 });
      current = ws;
      let final: number | undefined;
      // Set once the collector answered the upgrade with an HTTP error: the socket's own error then says nothing new.
      let answered = false;
      ws.on('open', () => ws.send(JSON.stringify(subscription)));
      ws.on('unexpected-response', (_req, res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          let message = body.slice(0, 300);
          try {
            message = JSON.parse(body).error ?? message;
          } catch {
            // not JSON
          }
          const status = res.statusCode ?? 0;
          if (status === 401 || status === 403 || status === 400 || status === 404 || status === 426) {
            const hint = status === 401 ? '; set --token or $STACKLENS_TOKEN' : '';
            process.stderr.write(`stacklens tail: the collector refused the connection (${status}: ${message})${hint}\n`);
            final = 1;
          } else process.stderr.write(`stacklens tail: the collector answered ${status}: ${message}; reconnecting\n`);
          ws.terminate();
        });
      });
      ws.on('message', (data) => {
        let m: any;
        try {
          m = JSON.parse(String(data));
        } catch {
          return;
        }
        if (m.type === 'subscribed') {
          if (attempt > 0) process.stderr.write('stacklens tail: reconnected\n');
          else process.stderr.write(`stacklens tail: following ${describe(m.filter)} on ${target.url} (Ctrl-C to stop)\n`);
          attempt = 0;
        } else if (m.type === 'error') {
          process.stderr.write(`stacklens tail: ${printable(String(m.error))}\n`);
          final = 2;
          ws.close();
        } else if (m.type === 'dropped') {
          if (values.json) print(m);
          else process.stderr.write(`stacklens tail: ${m.dropped} message(s) dropped — this terminal fell behind the collector; narrow the filter\n`);
        } else print(m);
      });
      ws.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) return;
        if (attempt === 0 || attempt % 10 === 0) process.stderr.write(`stacklens tail: cannot reach ${url} (${err.code ?? err.message}); retrying\n`);
      });
      ws.on('close', () => {
        if (stopped) return;
        if (final !== undefined) return resolve(final);
        attempt++;
        const wait = Math.min(RECONNECT_MAX_MS, 500 * 2 ** Math.min(attempt - 1, 5));
        retry = setTimeout(connect, wait);
      });
    };
    connect();
  }).catch((err) => {
    if (err instanceof CollectorError) {
      process.stderr.write(`stacklens tail: ${err.message}\n`);
      return 1;
    }
    throw err;
  });
}

function describe(f: { source: string[]; query?: string; fields: Record<string, string[]>; events: boolean; incidents: boolean }): string {
  const parts = [f.events ? `${f.source.join(', ')} events` : '', f.incidents ? 'incidents' : ''].filter(Boolean);
  const where = [f.query ? `matching '${f.query}'` : '', ...Object.entries(f.fields).map(([k, v]) => `${k}=${v.join('|')}`)].filter(Boolean);
  return `${parts.join(' and ')}${where.length ? ` (${where.join(', ')})` : ''}`;
}

/** Fields worth showing beside the message, when present, and their short names. */
const KEY_FIELDS: [string, string][] = [
  ['pos.store_id', 'store'],
  ['pos.kiosk_id', 'kiosk'],
  ['pos.order_id', 'order'],
  ['error.type', 'error'],
  ['user.id', 'user'],
  ['service.name', 'service'],
];

function get(doc: any, path: string): unknown {
  let v = doc;
  for (const k of path.split('.')) v = v?.[k];
  return v ?? doc?.[path];
}

function printReadable(m: any): void {
  if (m.type === 'event') {
    const e = m.event ?? {};
    const level = printable(String(get(e, 'log.level') ?? '').toLowerCase());
    const dataset = printable(String(get(e, 'data_stream.dataset') ?? get(e, 'event.dataset') ?? ''));
    const message = printable(String(e.message ?? ''));
    const keys = KEY_FIELDS.map(([path, name]) => [name, get(e, path)] as const).filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object');
    const extra = keys.length ? `  ${paint('2', keys.map(([name, v]) => `${name}=${printable(String(v))}`).join(' '))}` : '';
    process.stdout.write(`${paint('2', printable(String(e['@timestamp'] ?? '')))} ${paint(LEVEL_COLOUR[level], (level || '-').toUpperCase().padEnd(5))} ${dataset.padEnd(8)} ${message}${extra}\n`);
  } else if (m.type === 'incident') {
    const i = m.incident ?? {};
    const p = (v: unknown) => printable(String(v ?? ''));
    const sev = p(i.severity);
    process.stdout.write(`${paint('2', p(i.updated_at))} ${paint('1', 'INCIDENT')} ${p(m.change).padEnd(12)} ${paint(SEVERITY_COLOUR[sev], `[${sev}]`)} ${p(i.rule)}${i.group_key ? ` ${p(i.group_key)}` : ''} — ${p(i.summary)} (${p(i.count)} events${i.ticket ? `, ${p(i.ticket)}` : ''}) ${paint('2', p(i.id))}\n`);
  }
}
