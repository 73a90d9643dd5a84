// stacklens incidents list|show|ack|resolve|silence: operating incidents from the terminal,
// through a collector's API (GET /api/incidents, /api/incidents/:id, POST …/ack, …/resolve,
// /api/silences) — a table with colours on a terminal, --json for scripts.
import { parseArgs } from 'node:util';
import { COLLECTOR_OPTIONS_HELP, CollectorError, collectorTarget, getJson, postJson, type CollectorTarget } from './collector-client.js';
import { jsonLine, paint, SEVERITY_COLOUR, STATUS_COLOUR, printable } from './terminal.js';

export const INCIDENTS_HELP = `Usage: stacklens incidents <list|show|ack|resolve|silence> [options]
Operates a collector's incidents from the terminal.
  list [--status open,acknowledged] [--severity critical,high] [--rule NAME] [--from now-24h]
       [--size 50] [--json]         a table: severity, status, rule, group, count, first and last
                                    seen, ticket, age (default: open and acknowledged ones)
  show <id> [--json]                one incident: what, where, counts, analysis, samples, timeline
  ack <id> [--note TEXT]            acknowledge (an operator token)
  resolve <id> [--note TEXT]        resolve (an operator token)
  silence <id> --for 1h --reason TEXT
                                    silence the incident's rule and group for a while
${COLLECTOR_OPTIONS_HELP}
Examples:
  stacklens incidents list --severity critical
  stacklens incidents show 7f3c2a…
  stacklens incidents ack 7f3c2a… --note "on it"`;

interface Incident {
  id: string;
  rule: string;
  severity: string;
  status: string;
  group_key: string;
  summary: string;
  count: number;
  first_seen: string;
  last_seen: string;
  detected_at: string;
  description?: string;
  message_template?: string;
  ticket?: { key: string; url?: string };
  labels?: Record<string, string>;
  acknowledged_by?: string;
  resolved_by?: string;
  runbook?: string;
  triage?: { source?: string; note?: string; model?: string; analysis?: { root_cause?: string; confidence?: number; category?: string; suggestions?: { priority?: number; action?: string }[] } };
  samples?: Record<string, any>[];
  timeline?: { stage: string; at: string; by?: string; note?: string }[];
}


/** "3m", "2h", "5d": how long ago. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 129_600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

const shortTime = (iso: string | undefined) => (typeof iso === 'string' && iso ? printable(iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')) : '');
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A table: columns padded to their widest cell (cells already printable); colours applied after padding. */
function table(headers: string[], rows: { cells: string[]; colours?: (string | undefined)[] }[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i].length)));
  const line = (cells: string[], colours: (string | undefined)[] = []) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]);
        return colours[i] ? paint(colours[i]!, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  return [paint('1', line(headers)), ...rows.map((r) => line(r.cells, r.colours))].join('\n');
}

export async function incidentsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(`${INCIDENTS_HELP}\n`);
    return sub ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        status: { type: 'string' },
        severity: { type: 'string' },
        rule: { type: 'string' },
        from: { type: 'string' },
        size: { type: 'string' },
        json: { type: 'boolean' },
        note: { type: 'string' },
        for: { type: 'string' },
        reason: { type: 'string' },
        url: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`stacklens incidents ${sub}: ${(err as Error).message}\n\n${INCIDENTS_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${INCIDENTS_HELP}\n`);
    return 0;
  }
  const needId = () => {
    if (positionals.length !== 1 || !positionals[0].trim()) throw new UsageError(`stacklens incidents ${sub}: one incident id expected (see stacklens incidents list)`);
    return encodeURIComponent(positionals[0]);
  };
  try {
    // Usage first: a mistake in the command line is told before anything is asked of the collector.
    if (!['list', 'show', 'ack', 'resolve', 'silence'].includes(sub)) throw new UsageError(`stacklens incidents: unknown subcommand "${sub}"\n\n${INCIDENTS_HELP}`);
    if (sub !== 'list') needId();
    if (sub === 'silence' && (!values.for || !values.reason)) throw new UsageError('stacklens incidents silence: --for (e.g. 1h) and --reason are required');
    const target = collectorTarget(values);
    switch (sub) {
      case 'list':
        if (positionals.length) throw new UsageError(`stacklens incidents list: unexpected argument "${positionals[0]}"`);
        return await list(target, values);
      case 'show': {
        const inc = await getJson<Incident>(target, `/api/incidents/${needId()}`);
        process.stdout.write(values.json ? `${jsonLine(inc)}\n` : `${show(inc)}\n`);
        return 0;
      }
      case 'ack':
      case 'resolve': {
        const inc = await postJson<Incident>(target, `/api/incidents/${needId()}/${sub}`, values.note === undefined ? {} : { note: values.note });
        process.stdout.write(values.json ? `${jsonLine(inc)}\n` : `${inc.id} ${paint(STATUS_COLOUR[inc.status], inc.status)}${inc.acknowledged_by && sub === 'ack' ? ` by ${printable(inc.acknowledged_by)}` : ''}${inc.resolved_by && sub === 'resolve' ? ` by ${printable(inc.resolved_by)}` : ''} — ${printable(inc.summary)}\n`);
        return 0;
      }
      case 'silence': {
        const id = needId();
        const inc = await getJson<Incident>(target, `/api/incidents/${id}`);
        const silence = await postJson<{ id: string; ends_at?: string; until?: string }>(target, '/api/silences', { rule: inc.rule, ...(inc.group_key ? { group_key: inc.group_key } : {}), duration: values.for, reason: values.reason });
        process.stdout.write(values.json ? `${jsonLine(silence)}\n` : `silenced ${printable(inc.rule)}${inc.group_key ? ` ${printable(inc.group_key)}` : ''} until ${silence.ends_at ?? silence.until ?? '?'} (silence ${silence.id})\n`);
        return 0;
      }
      default:
        throw new UsageError(`stacklens incidents: unknown subcommand "${sub}"\n\n${INCIDENTS_HELP}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof CollectorError) {
      process.stderr.write(`stacklens incidents ${sub}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

class UsageError extends Error {}

async function list(target: CollectorTarget, v: Record<string, string | boolean | undefined>): Promise<number> {
  const page = await getJson<{ total: number; incidents: Incident[] }>(target, '/api/incidents', {
    status: (v.status as string | undefined) ?? 'open,acknowledged',
    severity: v.severity as string | undefined,
    rule: v.rule as string | undefined,
    from: v.from as string | undefined,
    size: (v.size as string | undefined) ?? 50,
  });
  if (v.json) {
    process.stdout.write(`${jsonLine(page)}\n`);
    return 0;
  }
  if (page.incidents.length === 0) {
    process.stdout.write(`no ${(v.status as string | undefined) ?? 'open or acknowledged'} incidents${v.severity ? ` of severity ${v.severity}` : ''}\n`);
    return 0;
  }
  const now = Date.now();
  // Any field may be missing from a stored incident (written by another version, or by hand): a dash, not a crash.
  const c = (v: unknown) => (v === undefined || v === null || v === '' ? '—' : printable(String(v)));
  const rows = page.incidents.map((i) => ({
    cells: [c(i.severity), c(i.status), cut(c(i.rule), 32), cut(c(i.group_key), 36), c(i.count), shortTime(i.first_seen) || '—', shortTime(i.last_seen) || '—', c(i.ticket?.key), i.detected_at ? age(i.detected_at, now) : '—', c(i.id), cut(c(i.summary), 80)],
    colours: [SEVERITY_COLOUR[i.severity], STATUS_COLOUR[i.status]],
  }));
  process.stdout.write(`${table(['SEVERITY', 'STATUS', 'RULE', 'GROUP', 'COUNT', 'FIRST SEEN', 'LAST SEEN', 'TICKET', 'AGE', 'ID', 'SUMMARY'], rows)}\n`);
  process.stderr.write(`${page.incidents.length} of ${page.total} incident(s)${page.total > page.incidents.length ? ' (--size for more)' : ''}\n`);
  return 0;
}

function show(i: Incident): string {
  const p = (v: unknown) => printable(String(v ?? ''));
  const lines = [
    `${paint('1', p(i.id))}  ${paint(SEVERITY_COLOUR[i.severity], `[${p(i.severity)}]`)} ${paint(STATUS_COLOUR[i.status], p(i.status))}`,
    `  ${p(i.summary)}`,
    '',
    `  rule        ${p(i.rule)}${i.description ? ` — ${p(i.description)}` : ''}`,
    `  group       ${p(i.group_key || '(none)')}`,
    `  message     ${p(i.message_template)}`,
    `  events      ${i.count}, first ${shortTime(i.first_seen)}, last ${shortTime(i.last_seen)}`,
    `  detected    ${shortTime(i.detected_at)} (${age(i.detected_at)} ago)`,
    ...(i.acknowledged_by ? [`  acknowledged by ${p(i.acknowledged_by)}`] : []),
    ...(i.resolved_by ? [`  resolved by ${p(i.resolved_by)}`] : []),
    `  ticket      ${i.ticket ? `${p(i.ticket.key)}${i.ticket.url ? ` ${p(i.ticket.url)}` : ''}` : '—'}`,
    ...(i.labels && Object.keys(i.labels).length ? [`  labels      ${Object.entries(i.labels).map(([k, v]) => `${p(k)}=${p(v)}`).join(' ')}`] : []),
  ];
  const t = i.triage;
  lines.push('', paint('1', 'Analysis'));
  if (t?.analysis?.root_cause) {
    lines.push(`  ${p(t.analysis.root_cause)} (${p(t.analysis.category)}, confidence ${Math.round((t.analysis.confidence ?? 0) * 100)}%${t.model ? `, ${p(t.model)}` : ''})`);
    for (const s of t.analysis.suggestions ?? []) lines.push(`  ${s.priority ?? '-'}. ${p(s.action)}`);
  } else lines.push(`  ${t ? `runbook triage${t.note ? ` (${p(t.note)})` : ''}` : 'not triaged yet'}`);
  if (i.runbook) lines.push(`  runbook: ${p(i.runbook)}`);
  if (i.samples?.length) {
    lines.push('', paint('1', 'Samples'));
    for (const s of i.samples.slice(0, 5)) lines.push(`  ${p(s['@timestamp'])} ${p(s.message)}`);
  }
  if (i.timeline?.length) {
    lines.push('', paint('1', 'Timeline'));
    for (const e of i.timeline) lines.push(`  ${shortTime(e.at)}  ${p(e.stage).padEnd(18)}${e.by ? ` by ${p(e.by)}` : ''}${e.note ? `  ${p(e.note)}` : ''}`);
  }
  return lines.join('\n');
}
