// GET /api/templates: the message templates with the most events in a time window, per
// dataset, with a trend (events in the window's second half vs its first half, and a
// histogram). Counts come from the events themselves (so a team-scoped token counts only
// its teams' data, by index); texts, first sighting and all-time counts from
// stacklens-templates.
import type { Client } from '@elastic/elasticsearch';
import { TEMPLATE_FIELD, type EsTemplateStore } from '@stacklens/detection';

export interface TopTemplatesRequest {
  /** Only these datasets (all when undefined). */
  datasets?: string[];
  /** Elasticsearch filter confining a team-scoped caller (security/team-scope.ts). */
  scope?: Record<string, unknown>;
  from: number;
  to: number;
  /** Templates per dataset. */
  size: number;
}

export interface TopTemplate {
  id: string;
  dataset: string;
  template: string;
  /** Events in the window. */
  count: number;
  /** Events in the window's first and second half: rising when recent > previous. */
  trend: { previous: number; recent: number; direction: 'rising' | 'falling' | 'steady' | 'new' };
  /** Events per bucket across the window (12 buckets), oldest first. */
  histogram: number[];
  /** From stacklens-templates (absent for a template no collector wrote yet). */
  first_seen?: string;
  last_seen?: string;
  total?: number;
  examples?: string[];
}

const BUCKETS = 12;
const MAX_DATASETS = 50;

export async function topTemplates(es: Client, store: EsTemplateStore, req: TopTemplatesRequest): Promise<{ from: string; to: string; datasets: { dataset: string; templates: TopTemplate[] }[] }> {
  const index = req.datasets ? req.datasets.map((d) => `logs-${d}-*`).join(',') : 'logs-*-*';
  const span = Math.max(req.to - req.from, BUCKETS);
  const interval = Math.ceil(span / BUCKETS);
  const middle = req.from + Math.floor(span / 2);
  const filter: unknown[] = [{ range: { '@timestamp': { gte: req.from, lt: req.to, format: 'epoch_millis' } } }, { exists: { field: TEMPLATE_FIELD } }];
  if (req.scope) filter.push(req.scope);
  const res: any = await es.search({
    index,
    size: 0,
    ignore_unavailable: true,
    allow_no_indices: true,
    query: { bool: { filter, must_not: [{ term: { [TEMPLATE_FIELD]: '' } }] } },
    aggs: {
      datasets: {
        terms: { field: 'event.dataset', size: MAX_DATASETS },
        aggs: {
          templates: {
            terms: { field: TEMPLATE_FIELD, size: req.size },
            aggs: {
              halves: { range: { field: '@timestamp', ranges: [{ key: 'previous', to: middle }, { key: 'recent', from: middle }] } },
              histogram: { histogram: { field: '@timestamp', interval, offset: req.from % interval, min_doc_count: 0, extended_bounds: { min: req.from, max: req.to - 1 } } },
              latest: { top_hits: { size: 1, sort: [{ '@timestamp': 'desc' }], _source: ['stacklens.message_template'] } },
            },
          },
        },
      },
    },
  } as never);
  const buckets: any[] = res.aggregations?.datasets?.buckets ?? [];
  const ids = buckets.flatMap((d) => d.templates.buckets.map((t: any) => String(t.key)));
  const stored = new Map((await store.get(ids)).map((t) => [t.id, t]));
  return {
    from: new Date(req.from).toISOString(),
    to: new Date(req.to).toISOString(),
    datasets: buckets.map((d) => ({
      dataset: String(d.key),
      templates: d.templates.buckets.map((t: any): TopTemplate => {
        const id = String(t.key);
        const s = stored.get(id);
        const half = (key: string) => t.halves.buckets.find((b: any) => b.key === key)?.doc_count ?? 0;
        const previous = half('previous');
        const recent = half('recent');
        const latestText = t.latest.hits.hits[0]?._source?.stacklens?.message_template;
        return {
          id,
          dataset: String(d.key),
          template: s?.template ?? latestText ?? '',
          count: t.doc_count,
          trend: { previous, recent, direction: trendOf(previous, recent) },
          histogram: t.histogram.buckets.slice(-BUCKETS).map((b: any) => b.doc_count),
          ...(s ? { first_seen: s.first_seen, last_seen: s.last_seen, total: s.count, examples: s.examples ?? [] } : {}),
        };
      }),
    })),
  };
}

/** Rising or falling when the second half differs from the first by more than a half (and a few events). */
export function trendOf(previous: number, recent: number): TopTemplate['trend']['direction'] {
  if (previous === 0) return recent > 0 ? 'new' : 'steady';
  if (Math.abs(recent - previous) < 3) return 'steady';
  if (recent > previous * 1.5) return 'rising';
  if (recent < previous / 1.5) return 'falling';
  return 'steady';
}
