// The API: incidents, silences, rules, search, message templates and the audit trail. Viewers read, operators
// also act on incidents, admins also change configuration (security/principals.ts); a
// team-scoped principal sees and acts on its teams' incidents and data only — another
// team's incident answers 404, as if it did not exist. Every change and every refusal is
// audited. Errors name what was wrong; no token or secret is ever echoed.
import express, { type Request, type Response, type Router } from 'express';
import { BadCursorError, SEVERITIES, formatDuration, type IncidentAction, type RuleEngine } from '@stacklens/detection';
import { changeIncident } from './incident-actions.js';
import { parseDuration } from '@stacklens/common';
import type { Gate } from './security/gate.js';
import { seesTeam, type ApiPrincipal } from './security/principals.js';
import { BadAuditCursor } from './security/audit.js';
import type { EsTemplateStore, Incident, Silence } from '@stacklens/detection';
import { topTemplates } from './top-templates.js';
import type { Notifier } from './integrations/notifier.js';
import { OUTBOX_ACTIONS, type CollectorMetrics } from './metrics.js';
import type { Client } from '@elastic/elasticsearch';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { MAX_TAIL_CLIENTS, type TailHub } from './tail/tail-hub.js';
import { BadSearchCursor, MAX_SEARCH_SIZE, SEARCH_SOURCES, search, type SearchFilters, type SearchSource } from './search.js';
import { DEFAULT_EXPORT_FIELDS, EXPORT_FORMATS, isFieldName, MAX_EXPORT_FIELDS, streamExport, type ExportFormat } from './search-export.js';

const STATUSES = ['open', 'acknowledged', 'resolved'];
const MAX_QUERY_CHARS = 1000;
const MAX_QUERY_WORDS = 64;
const MAX_PAGE = 200;
const MAX_TEMPLATES = 200;
/** Exports running at once on one collector. */
const MAX_EXPORTS = 4;

export class BadRequest extends Error {}

export interface ApiDeps {
  gate: Gate;
  /** The filter confining a team-scoped principal's searches to its teams' data. */
  teamScope: (teams: string[]) => Promise<Record<string, unknown>>;
  engine: RuleEngine;
  notifier?: Notifier;
  metrics?: CollectorMetrics;
  es: Client;
  /** Message templates (GET /api/templates). */
  templateStore?: EsTemplateStore;
  /** The live tail (GET /api/tail). */
  tail?: TailHub;
  /** api.export_idle_timeout (ms). */
  exportIdleMs?: number;
}

/** What the HTTP server's 'upgrade' handler leaves on a request it routes through the app (collector.ts). */
export interface UpgradeRequest {
  upgrade?: { socket: Duplex; head: Buffer };
}

function list(req: Request, name: string, allowed?: readonly string[]): string[] | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(',')).filter(Boolean);
  for (const v of values) {
    if (allowed && !allowed.includes(v)) throw new BadRequest(`${name}: "${v}" is not one of ${allowed.join(', ')}`);
  }
  return values;
}

/** Times Elasticsearch's date type and our ISO strings both hold: years 1 to 9999. */
const EARLIEST = Date.UTC(1, 0, 1) - 1;
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time given by a client, or a BadRequest naming it: never a value that makes Elasticsearch (or toISOString) fail. */
export function clientTime(name: string, s: string, now = Date.now()): number {
  let t: number;
  if (s === 'now') t = now;
  else if (/^now-/.test(s)) {
    try {
      t = now - parseDuration(s.slice(4));
    } catch {
      t = Number.NaN;
    }
  } else t = Date.parse(s);
  if (!Number.isFinite(t)) throw new BadRequest(`${name}: "${s.slice(0, 100)}" is not a time (ISO 8601, now, or now-1h)`);
  if (t < EARLIEST || t > LATEST) throw new BadRequest(`${name}: "${s.slice(0, 100)}" is outside the years 1 to 9999`);
  return t;
}

function time(req: Request, name: string): string | undefined {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  return new Date(clientTime(name, String(raw))).toISOString();
}

const principalOf = (res: Response) => res.locals.principal as ApiPrincipal;

/**
 * Who the timeline names. A named principal (api.tokens) is itself; the unnamed admin and
 * viewer tokens are shared by tools acting for people, who may say for whom (`by`).
 */
function actor(req: Request, res: Response): string {
  const p = principalOf(res);
  const by = req.body?.by;
  if (by !== undefined && (typeof by !== 'string' || by.length === 0 || by.length > 200)) throw new BadRequest('by: must be a name of 1–200 characters');
  if (!/^(admin|viewer)_tokens\[\d+\]$/.test(p.name)) return p.name;
  return by ?? 'api';
}

/** Rule settings that are durations: shown as a person writes them ("30m"), their milliseconds in durations_ms. */
const DURATION_KEYS = ['window', 'lookback', 'realert', 'auto_resolve', 'run_every'] as const;

function ruleView(r: RuleEngine['rules'][number], scheduledRuns: number, health: object): Record<string, unknown> {
  const view: Record<string, unknown> = { ...r.spec, file: r.file, index: r.index, run_every: r.runEveryMs };
  const ms: Record<string, number> = {};
  for (const key of DURATION_KEYS) {
    const v = view[key];
    if (typeof v === 'number') {
      ms[key] = v;
      view[key] = formatDuration(v);
    }
  }
  return { ...view, durations_ms: ms, scheduled_runs_here: scheduledRuns, ...health };
}

export function createApi(deps: ApiDeps): Router {
  const api = express.Router();
  const { engine, gate } = deps;
  const viewer = gate.api('viewer');
  const operator = gate.api('operator');
  const admin = gate.api('admin');
  const everyTeam = gate.everyTeam();
  /** The incident, when the principal may see it; else undefined after a 404 (another team's incident is not confirmed to exist). */
  const visibleIncident = async (req: Request, res: Response, action: string): Promise<Incident | undefined> => {
    const id = String(req.params.id);
    const found = await engine.incidents.get(id);
    const p = principalOf(res);
    if (found && seesTeam(p, found.incident.labels?.team)) return found.incident;
    if (found) gate.refuse(req, res, 404, `no incident ${id}`, 'authorization', action, id);
    else res.status(404).json({ error: `no incident ${id}` });
    return undefined;
  };
  /** The team a silence would apply to, or the reason a team-scoped principal may not make it. */
  const silenceTeam = (b: { rule?: string; labels?: Record<string, unknown> }): string | undefined => {
    if (b.labels && typeof b.labels.team === 'string') return b.labels.team;
    const rule = b.rule === undefined ? undefined : engine.rules.find((r) => r.spec.name === b.rule);
    return rule?.spec.labels?.team;
  };
  api.use(express.json({ limit: '64kb' }));

  api.get('/incidents', viewer, async (req, res) => {
    const teams = principalOf(res).teams;
    const size = req.query.size === undefined ? 50 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadRequest(`size: must be a whole number from 1 to ${MAX_PAGE}`);
    const page = await engine.incidents.search({
      status: list(req, 'status', STATUSES),
      severity: list(req, 'severity', SEVERITIES),
      rule: list(req, 'rule'),
      group_key: req.query.group_key === undefined ? undefined : String(req.query.group_key),
      from: time(req, 'from'),
      to: time(req, 'to'),
      size,
      after: req.query.after === undefined ? undefined : String(req.query.after),
      teams,
    });
    res.json(page);
  });

  api.get('/incidents/:id', viewer, async (req, res) => {
    const incident = await visibleIncident(req, res, 'incident.read');
    if (incident) res.json(incident);
  });

  const act = (action: IncidentAction) => async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const by = actor(req, res);
    const note = typeof req.body?.note === 'string' ? req.body.note.slice(0, 2000) : undefined;
    if (!(await visibleIncident(req, res, `incident.${action}`))) return;
    const outcome = await changeIncident(deps, id, action, by, note);
    gate.record(req, res, { action: `incident.${action}`, category: 'incident', target: id, outcome: outcome.kind === 'done' ? 'success' : 'failure', reason: outcome.kind === 'refused' ? outcome.reason : outcome.kind === 'missing' ? 'no such incident' : undefined });
    if (outcome.kind === 'missing') return void res.status(404).json({ error: `no incident ${id}` });
    if (outcome.kind === 'refused') return void res.status(409).json({ error: outcome.reason });
    res.json(outcome.incident);
  };
  api.post('/incidents/:id/ack', operator, act('acknowledge'));
  api.post('/incidents/:id/resolve', operator, act('resolve'));

  api.post('/incidents/:id/ticket', operator, async (req, res) => {
    const incident = await visibleIncident(req, res, 'incident.ticket');
    if (!incident) return;
    if (incident.ticket) return void res.json({ ticket: incident.ticket, created: false });
    const audit = (outcome: 'success' | 'failure', reason?: string) => gate.record(req, res, { action: 'incident.ticket', category: 'incident', target: incident.id, outcome, reason });
    if (!deps.notifier) {
      audit('failure', 'Jira is not configured');
      return void res.status(409).json({ error: 'Jira is not configured (integrations.jira)' });
    }
    try {
      const task = await deps.notifier.requestTicket(incident);
      audit('success');
      res.status(202).json({ task });
    } catch (err) {
      audit('failure', (err as Error).message);
      res.status(409).json({ error: (err as Error).message });
    }
  });

  api.get('/outbox', viewer, everyTeam, async (req, res) => {
    if (!deps.notifier) return void res.json({ total: 0, tasks: [] });
    const size = req.query.size === undefined ? 50 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadRequest(`size: must be a whole number from 1 to ${MAX_PAGE}`);
    const outbox = deps.notifier.outbox;
    const page = await outbox.list({ status: list(req, 'status', ['pending', 'running', 'done', 'failed']), action: list(req, 'action', OUTBOX_ACTIONS), incident: req.query.incident === undefined ? undefined : String(req.query.incident), size });
    // Who answers, and which collectors share the outbox (recent heartbeats): what each can run.
    const collectors = (await outbox.registry.list(24 * 3_600_000)).map(({ rules: _rules, ...c }) => c);
    res.json({ ...page, collector: { id: outbox.collectorId, capabilities: outbox.capabilities }, collectors });
  });

  /** The filters GET /search and GET /search/export share, checked; `known` are the endpoint's own parameters besides them. */
  const searchFilters = async (req: Request, res: Response, own: string[]): Promise<SearchFilters> => {
    const known = ['q', 'source', 'channel', 'user', 'from', 'to', ...own];
    const unknown = Object.keys(req.query).filter((k) => !known.includes(k));
    if (unknown.length) throw new BadRequest(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${known.join(', ')}`);
    const one = (name: string) => (req.query[name] === undefined ? undefined : String(req.query[name]));
    const q = one('q');
    // Every word is a clause Elasticsearch evaluates: a query of thousands of words takes the
    // cluster's CPU for tens of seconds. People search with a few words.
    if (q !== undefined && (q.length > MAX_QUERY_CHARS || q.split(/\s+|\|/).filter(Boolean).length > MAX_QUERY_WORDS)) {
      throw new BadRequest(`q: at most ${MAX_QUERY_WORDS} words and ${MAX_QUERY_CHARS} characters`);
    }
    const from = time(req, 'from');
    const to = time(req, 'to');
    if (from && to && from > to) throw new BadRequest('from: must not be after to');
    const teams = principalOf(res).teams;
    return {
      scope: teams ? await deps.teamScope(teams) : undefined,
      q,
      source: list(req, 'source', Object.keys(SEARCH_SOURCES)) as SearchSource[] | undefined,
      channel: one('channel'),
      user: one('user'),
      from,
      to,
    };
  };

  api.get('/search', viewer, async (req, res) => {
    const filters = await searchFilters(req, res, ['size', 'search_after']);
    const size = req.query.size === undefined ? 50 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_SEARCH_SIZE) throw new BadRequest(`size: must be a whole number from 1 to ${MAX_SEARCH_SIZE}`);
    res.json(await search(deps.es, { ...filters, size, search_after: req.query.search_after === undefined ? undefined : String(req.query.search_after) }));
  });

  // Streamed, any size; at most MAX_EXPORTS at once per collector (each holds a point in time
  // and keeps Elasticsearch busy for as long as its client reads).
  let exporting = 0;
  api.get('/search/export', viewer, async (req, res) => {
    const filters = await searchFilters(req, res, ['format', 'fields', 'escape_formulas']);
    const format = String(req.query.format ?? 'csv') as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new BadRequest(`format: "${format.slice(0, 50)}" is not one of ${EXPORT_FORMATS.join(', ')}`);
    const fields = req.query.fields === undefined ? DEFAULT_EXPORT_FIELDS : (list(req, 'fields') ?? []);
    if (fields.length === 0 || fields.length > MAX_EXPORT_FIELDS) throw new BadRequest(`fields: from 1 to ${MAX_EXPORT_FIELDS} field names, comma-separated`);
    for (const f of fields) if (!isFieldName(f)) throw new BadRequest(`fields: "${f.slice(0, 100)}" is not a field name (letters, digits, _ @ . -; no wildcards)`);
    if (new Set(fields).size !== fields.length) throw new BadRequest('fields: a field is named twice');
    const escapeFormulas = req.query.escape_formulas === undefined ? true : { true: true, false: false }[String(req.query.escape_formulas)];
    if (escapeFormulas === undefined) throw new BadRequest('escape_formulas: must be true or false');
    if (exporting >= MAX_EXPORTS) {
      deps.metrics?.exports.inc({ format, result: 'refused' });
      return void res.status(429).set('Retry-After', '10').json({ error: `${MAX_EXPORTS} exports are running on this collector; try again shortly` });
    }
    exporting++;
    const target = JSON.stringify({ format, q: filters.q, source: filters.source, from: filters.from, to: filters.to, fields }).slice(0, 1000);
    try {
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const result = await streamExport(deps.es, { ...filters, format, fields, escapeFormulas }, res, `stacklens-export-${stamp}.${format}`, deps.exportIdleMs);
      const outcome = result.complete ? 'complete' : result.clientGone ? 'client_gone' : 'failed';
      deps.metrics?.exports.inc({ format, result: outcome });
      deps.metrics?.exportRows.inc({ format }, result.rows);
      gate.record(req, res, { action: 'search.export', category: 'data', target, outcome: result.complete ? 'success' : 'failure', reason: result.complete ? `${result.rows} rows` : `${result.rows} of ${result.total} rows: ${result.error ?? 'the client went away'}` });
    } catch (err) {
      deps.metrics?.exports.inc({ format, result: 'failed' });
      gate.record(req, res, { action: 'search.export', category: 'data', target, outcome: 'failure', reason: (err as Error).message?.slice(0, 300) });
      throw err;
    } finally {
      exporting--;
    }
  });

  // The live tail: a WebSocket (tail/tail-hub.ts). The upgrade request comes through this
  // router like any other, so the token, role, rate limit and audit of refusals are the API's.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  api.get('/tail', viewer, (req, res) => {
    const upgrade = (req as Request & UpgradeRequest).upgrade;
    if (!upgrade || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return void res.status(426).set('Upgrade', 'websocket').json({ error: 'GET /api/tail is a WebSocket: connect with Upgrade: websocket (e.g. stacklens tail), then send the subscription as JSON' });
    }
    if (!deps.tail) return void res.status(404).json({ error: 'the live tail is not available on this collector' });
    if (deps.tail.size >= MAX_TAIL_CLIENTS) return void res.status(503).set('Retry-After', '10').json({ error: `${MAX_TAIL_CLIENTS} live-tail clients are connected to this collector; try again later or another collector` });
    const principal = principalOf(res);
    const hub = deps.tail;
    // The socket is the WebSocket's from here: the response object never writes to it.
    res.detachSocket(upgrade.socket as never);
    wss.handleUpgrade(req, upgrade.socket, upgrade.head, (ws) => hub.add(ws, principal));
  });

  api.get('/templates', viewer, async (req, res) => {
    const known = ['dataset', 'from', 'to', 'size'];
    const unknown = Object.keys(req.query).filter((k) => !known.includes(k));
    if (unknown.length) throw new BadRequest(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${known.join(', ')}`);
    if (!deps.templateStore) throw new BadRequest('message templates are not available on this collector');
    const size = req.query.size === undefined ? 20 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_TEMPLATES) throw new BadRequest(`size: must be a whole number from 1 to ${MAX_TEMPLATES}`);
    const datasets = list(req, 'dataset');
    for (const d of datasets ?? []) if (!/^[a-z0-9_.]{1,100}$/.test(d)) throw new BadRequest(`dataset: "${d.slice(0, 100)}" is not a dataset name (lower-case letters, digits, _ and .)`);
    const now = Date.now();
    const from = req.query.from === undefined ? now - 24 * 3600_000 : clientTime('from', String(req.query.from), now);
    const to = req.query.to === undefined ? now : clientTime('to', String(req.query.to), now);
    if (from >= to) throw new BadRequest('from: must be before to');
    const teams = principalOf(res).teams;
    res.json(await topTemplates(deps.es, deps.templateStore, { datasets, scope: teams ? await deps.teamScope(teams) : undefined, from, to, size }));
  });

  api.get('/silences', viewer, (_req, res) => {
    const p = principalOf(res);
    res.json({ silences: engine.silences.list().filter((s) => seesTeam(p, silenceTeam(s))) });
  });

  api.post('/silences', operator, async (req, res) => {
    const b = req.body ?? {};
    const known = ['rule', 'labels', 'group_key', 'until', 'duration', 'reason', 'by'];
    const unknown = Object.keys(b).filter((k) => !known.includes(k));
    if (unknown.length) throw new BadRequest(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${known.join(', ')}`);
    if (b.rule === undefined && b.labels === undefined && b.group_key === undefined) throw new BadRequest('a silence needs at least one of rule, labels, group_key');
    if (b.rule !== undefined && typeof b.rule !== 'string') throw new BadRequest('rule: must be a rule name');
    if (b.group_key !== undefined && typeof b.group_key !== 'string') throw new BadRequest('group_key: must be a group key such as "pos.store_id=STORE_001"');
    if (b.labels !== undefined && (typeof b.labels !== 'object' || b.labels === null || Array.isArray(b.labels))) throw new BadRequest('labels: must be an object of label: value');
    // An empty label set would match every incident of every rule: a silence must name what it silences.
    if (b.labels !== undefined && Object.keys(b.labels).length === 0) throw new BadRequest('labels: must name at least one label (an empty set would silence everything)');
    if (b.labels !== undefined && Object.entries(b.labels).some(([k, v]) => k === '__proto__' || k === 'constructor' || (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean'))) {
      throw new BadRequest('labels: values must be strings (or numbers/booleans), keyed by label names');
    }
    if (typeof b.reason !== 'string' || b.reason.trim() === '') throw new BadRequest('reason: required (why is this silenced?)');
    const p = principalOf(res);
    const team = silenceTeam(b);
    if (!seesTeam(p, team)) {
      return gate.refuse(req, res, 403, `${p.name} may silence only team ${p.teams!.join(', ')}'s incidents: name one of its rules, or labels.team`, 'authorization', 'silence.create', b.rule ?? b.group_key);
    }
    const now = Date.now();
    let ends: number;
    if (b.until !== undefined) {
      ends = clientTime('until', String(b.until), now);
    } else if (b.duration !== undefined) {
      try {
        ends = now + parseDuration(b.duration);
      } catch (err) {
        throw new BadRequest(`duration: ${(err as Error).message}`);
      }
      if (!(ends <= LATEST)) throw new BadRequest('duration: too long (the silence would end after the year 9999)');
    } else throw new BadRequest('until (a time) or duration (e.g. 1h) is required');
    if (ends <= now) throw new BadRequest('until: must be in the future');
    const silence = await engine.silences.create({
      rule: b.rule,
      labels: b.labels ? Object.fromEntries(Object.entries(b.labels).map(([k, v]) => [k, String(v)])) : undefined,
      group_key: b.group_key,
      starts_at: new Date(now).toISOString(),
      ends_at: new Date(ends).toISOString(),
      reason: b.reason,
      created_by: actor(req, res),
    });
    gate.record(req, res, { action: 'silence.create', category: 'configuration', target: silence.id, outcome: 'success' });
    res.status(201).json(silence);
  });

  api.delete('/silences/:id', operator, async (req, res) => {
    const id = String(req.params.id);
    const p = principalOf(res);
    let hidden = false;
    const mayEnd = (s: Silence) => (hidden = !seesTeam(p, silenceTeam(s))) === false;
    // Elasticsearch ids are at most 512 bytes: a longer one names no silence.
    if (Buffer.byteLength(id) > 512 || !(await engine.silences.expire(id, mayEnd))) {
      if (hidden) return gate.refuse(req, res, 404, `no silence ${id}`, 'authorization', 'silence.expire', id);
      return void res.status(404).json({ error: `no silence ${id}` });
    }
    gate.record(req, res, { action: 'silence.expire', category: 'configuration', target: id, outcome: 'success' });
    res.json({ expired: id });
  });

  api.get('/rules', viewer, (_req, res) => {
    const p = principalOf(res);
    res.json({
      loaded_at: engine.loadedAt,
      // state: ok, failing (with error, failing_since, failures) or not_evaluated — as this collector's evaluations found it.
      rules: engine.rules.filter((r) => seesTeam(p, r.spec.labels?.team)).map((r) => ruleView(r, engine.scheduledRuns.get(r.spec.name) ?? 0, engine.health.of(r))),
      errors: p.teams ? [] : engine.loadErrors,
    });
  });

  api.post('/rules/reload', admin, everyTeam, (req, res) => {
    const result = engine.reload();
    gate.record(req, res, { action: 'rules.reload', category: 'configuration', outcome: result.errors.length ? 'failure' : 'success', reason: result.errors.length ? `${result.errors.length} rule file(s) failed to load` : undefined });
    res.status(result.errors.length ? 422 : 200).json({ rules: result.rules, errors: result.errors });
  });

  api.get('/audit', admin, everyTeam, async (req, res) => {
    const known = ['from', 'to', 'action', 'outcome', 'category', 'user', 'size', 'search_after'];
    const unknown = Object.keys(req.query).filter((k) => !known.includes(k));
    if (unknown.length) throw new BadRequest(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${known.join(', ')}`);
    const size = req.query.size === undefined ? 50 : Number(req.query.size);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) throw new BadRequest(`size: must be a whole number from 1 to ${MAX_PAGE}`);
    if (!gate.audit) return void res.status(404).json({ error: 'the audit trail is not kept by this collector' });
    await gate.audit.flush();
    res.json(
      await gate.audit.search({
        from: time(req, 'from'),
        to: time(req, 'to'),
        action: list(req, 'action'),
        outcome: list(req, 'outcome', ['success', 'failure']),
        category: list(req, 'category', ['authentication', 'authorization', 'configuration', 'incident', 'integration', 'data']),
        actor: list(req, 'user'),
        size,
        search_after: req.query.search_after === undefined ? undefined : String(req.query.search_after),
      }),
    );
  });

  api.use((err: unknown, _req: Request, res: Response, next: (err?: unknown) => void) => {
    if (err instanceof BadRequest || err instanceof BadCursorError || err instanceof BadSearchCursor || err instanceof BadAuditCursor) return void res.status(400).json({ error: (err as Error).message });
    // Elasticsearch slow or away: the request may work later; it is not our bug (500) nor the client's (400).
    const name = (err as Error)?.name;
    if (name === 'TimeoutError' || name === 'ConnectionError' || name === 'NoLivingConnectionsError') {
      return void res.status(503).set('Retry-After', '5').json({ error: `Elasticsearch did not answer in time (${(err as Error).message}); try again` });
    }
    next(err);
  });
  return api;
}
