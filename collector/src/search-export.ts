// GET /api/search/export: every event a search matches, streamed as CSV (RFC 4180) or NDJSON.
// One point in time for the whole export (no gaps or repeats while events keep arriving),
// pages of EXPORT_PAGE read with search_after; the next page is asked for only once the
// client has taken the previous one (the response's backpressure), so a 10-million-row
// export holds one page in memory, as a 10-row one does.
//
// The response declares the row count before the first row (X-Total-Count, from the point
// in time) and confirms it at the end: in the HTTP trailer X-Export-Rows, and for NDJSON in
// the last line, {"export":{"rows":n,"complete":true}}. An export that fails midway (the
// cluster away, a shard lost) is not passed off as whole: NDJSON ends with
// {"export":{"rows":n,"complete":false,"error":"…"}} and CSV, which has no place for it, is
// cut off (the chunked response never ends, so curl, browsers and `stacklens search --export`
// report a failed transfer).
import type { Response } from 'express';
import type { Client } from '@elastic/elasticsearch';
import { fieldValue } from '@stacklens/detection';
import { SEARCH_SORT, searchIndices, searchQuery, type SearchFilters } from './search.js';

/** Read a dotted field as Elasticsearch does (nested or flattened keys): the detection package's reader. */
export { fieldValue };

export const EXPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** Fields exported when the request names none. */
export const DEFAULT_EXPORT_FIELDS = ['@timestamp', 'data_stream.dataset', 'log.level', 'service.name', 'host.name', 'message'];
export const MAX_EXPORT_FIELDS = 100;
const FIELD_NAME = /^[A-Za-z0-9_@][A-Za-z0-9_@.-]{0,199}$/;
/** Names of JavaScript's object machinery: never a field a client may name (they would reach prototypes, not data). */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/** A field name a client may give: a dotted ECS-style path (no wildcards: a column is one field). */
export function isFieldName(name: string): boolean {
  return FIELD_NAME.test(name) && !name.split('.').some((part) => RESERVED.has(part));
}
const EXPORT_PAGE = 2000;
const KEEP_ALIVE = '2m';

export interface ExportRequest extends SearchFilters {
  format: ExportFormat;
  fields: string[];
  /** CSV: prefix formula-like cells with ' (default true). */
  escapeFormulas?: boolean;
}

export interface ExportResult {
  rows: number;
  total: number;
  complete: boolean;
  /** Why it stopped short: Elasticsearch's error; undefined when complete or when the client went away. */
  error?: string;
  clientGone?: boolean;
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first; not a plain number).
 * Log messages are written by anyone who can make an application log: `=HYPERLINK(…)` in a
 * message must not become a live link in the spreadsheet of whoever opens the export.
 */
const FORMULA = /^[=+\-@\t\r]/;
const isFormula = (text: string) => FORMULA.test(text) && !Number.isFinite(Number(text));

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, a comma or a line break; quotes
 * doubled. With `escapeFormulas` (the default, as Kibana's CSV reports), a formula-like
 * value is prefixed with ' — shown, not run, by spreadsheets.
 */
export function csvField(value: unknown, escapeFormulas = true): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (escapeFormulas && isFormula(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvRecord = (values: unknown[], escapeFormulas = true): string => `${values.map((v) => csvField(v, escapeFormulas)).join(',')}\r\n`;

/**
 * A client that takes nothing for this long is given up on: an export holds one of the
 * collector's MAX_EXPORTS slots and a point in time, and a reader that stopped must not keep
 * them from everyone else.
 */
export const EXPORT_STALL_MS = 60_000;

function writeOut(res: Response, chunk: string, stallMs: number): Promise<void> | undefined {
  if (res.destroyed) return undefined;
  if (res.write(chunk)) return undefined;
  // Wait for the client to take what was written; a client that goes away ends the wait too.
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      res.destroy(new Error(`the client took nothing for ${stallMs / 1000} s`));
      done();
    }, stallMs);
    res.on('drain', done);
    res.on('close', done);
  });
}

function errorText(err: unknown): string {
  const e = err as { meta?: { body?: { error?: { type?: string; reason?: string } } }; message?: string };
  const body = e?.meta?.body?.error;
  return String(body ? `${body.type}: ${body.reason}` : e?.message ?? err).slice(0, 300);
}

/**
 * Streams the export into `res` (headers included). Errors before the first byte are thrown
 * (the caller answers them as any request's); after it, they end the export as described above.
 */
export async function streamExport(client: Client, req: ExportRequest, res: Response, fileName: string, stallMs = EXPORT_STALL_MS): Promise<ExportResult> {
  const query = searchQuery(req);
  let pit = (await client.openPointInTime({ index: searchIndices(req), keep_alive: KEEP_ALIVE, ignore_unavailable: true })).id;
  let gone = false;
  res.on('close', () => {
    gone = true;
  });
  const result: ExportResult = { rows: 0, total: 0, complete: false };
  let started = false;
  try {
    let after: unknown[] | undefined;
    for (;;) {
      const page: any = await client.search({
        size: EXPORT_PAGE,
        pit: { id: pit, keep_alive: KEEP_ALIVE },
        query,
        sort: SEARCH_SORT,
        search_after: after,
        track_total_hits: after === undefined,
        _source: req.fields,
      } as never);
      pit = page.pit_id ?? pit;
      if ((page._shards?.failed ?? 0) > 0) {
        const reason = page._shards.failures?.[0]?.reason;
        throw new Error(`${page._shards.failed} shard(s) failed: ${reason?.type ?? 'shard failure'}: ${String(reason?.reason ?? '').slice(0, 200)}`);
      }
      if (!started) {
        result.total = page.hits.total.value;
        res.status(200);
        res.setHeader('Content-Type', req.format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${fileName}"`);
        res.setHeader('X-Total-Count', String(result.total));
        res.setHeader('Trailer', 'X-Export-Rows, X-Export-Complete');
        res.setHeader('Cache-Control', 'no-store');
        started = true;
        // The header is the field names asked for, not data: written as they are.
        if (req.format === 'csv') await writeOut(res, csvRecord(req.fields, false), stallMs);
      }
      const hits: any[] = page.hits.hits;
      let chunk = '';
      for (const hit of hits) {
        const values = req.fields.map((f) => fieldValue(hit._source, f));
        if (req.format === 'csv') chunk += csvRecord(values, req.escapeFormulas !== false);
        else {
          const row: Record<string, unknown> = {};
          req.fields.forEach((f, i) => {
            if (values[i] !== undefined) row[f] = values[i];
          });
          chunk += `${JSON.stringify(row)}\n`;
        }
      }
      result.rows += hits.length;
      if (chunk) await writeOut(res, chunk, stallMs);
      if (gone || res.destroyed) {
        result.clientGone = true;
        return result;
      }
      if (hits.length < EXPORT_PAGE) break;
      after = hits[hits.length - 1].sort;
    }
    result.complete = true;
  } catch (err) {
    if (!started) throw err;
    result.error = errorText(err);
  } finally {
    // A point in time holds search contexts open in Elasticsearch until closed.
    void client.closePointInTime({ id: pit }).catch(() => undefined);
  }
  if (gone || res.destroyed) {
    result.clientGone = true;
    return result;
  }
  if (req.format === 'ndjson') res.write(`${JSON.stringify({ export: { rows: result.rows, complete: result.complete, ...(result.error ? { error: result.error } : {}) } })}\n`);
  res.addTrailers({ 'X-Export-Rows': String(result.rows), 'X-Export-Complete': String(result.complete) });
  if (result.complete || req.format === 'ndjson') res.end();
  // CSV has no place to say it is incomplete: cut the transfer off so no client takes it for whole.
  else res.destroy();
  return result;
}
