// AI triage of an incident: context from Elasticsearch (samples, counts by store/kiosk/
// product, similar past incidents with how they ended) and, when an OpenAI-compatible API is
// configured, a structured analysis from it — validated against a schema. Without an LLM, or
// when it fails, triage is the runbook plus the similar incidents, labelled with the truth:
// no LLM configured, LLM timed out / unreachable / rate-limited / refused, or its answer
// unusable (not JSON, not the schema).
import type { Client } from '@elastic/elasticsearch';
import OpenAI from 'openai';
import { z } from 'zod';
import { INCIDENTS_INDEX, TEMPLATE_FIELD, ruleTypeNamed, type Incident } from '@stacklens/detection';
import { RetryableError } from '../outbox/outbox.js';
import { redactSecrets } from './redact.js';
import { describeXeroError, type Xero, type XeroContext } from './xero.js';
import type { openaiSchema } from '../config.js';

/** integrations.openai as validated (config.ts is the one definition). */
export type OpenAiConfig = z.infer<typeof openaiSchema>;

export const analysisSchema = z.object({
  root_cause: z.string().min(1),
  category: z.string().min(1),
  confidence: z.number().min(0).max(1),
  suggestions: z
    .array(
      z.object({
        priority: z.union([z.number(), z.string()]),
        action: z.string().min(1),
        estimated_time: z.string().optional().default(''),
        automation_possible: z.boolean().optional().default(false),
      }),
    )
    .min(1),
});
export type Analysis = z.infer<typeof analysisSchema>;

export interface TriageContext {
  rule: string;
  severity: string;
  description: string;
  runbook: string;
  message_template: string;
  summary: string;
  group: string;
  counts: Record<string, { value: string; count: number }[]>;
  samples: string[];
  similar: { id: string; rule: string; status: string; summary: string; resolved_by?: string; triage_root_cause?: string }[];
  /** Accounting context from Xero, or why there is none. */
  xero?: XeroContext;
  xero_note?: string;
}

export interface TriageResult {
  source: 'llm' | 'runbook';
  /** Why the LLM was not used or its answer not kept, when source is runbook. */
  note?: string;
  analysis?: Analysis;
  runbook: string;
  similar: TriageContext['similar'];
  xero?: XeroContext;
  xero_note?: string;
  model?: string;
  tokens?: { prompt: number; completion: number };
  latency_ms?: number;
}

const BREAKDOWN_FIELDS = ['pos.store_id', 'pos.kiosk_id', 'pos.product_id', 'error.type'];

export async function buildContext(es: Client, inc: Incident): Promise<TriageContext> {
  const counts: TriageContext['counts'] = {};
  // Narrowed to the incident's message template when that is its events' template (not a condition such as "event rate spiked up").
  const byTemplate = Boolean(inc.template_id) && ruleTypeNamed(inc.rule_type)?.triageHints.eventTemplate === true;
  try {
    const res: any = await es.search({
      index: inc.index,
      size: 0,
      query: { bool: { filter: [{ range: { '@timestamp': { gte: inc.first_seen, lte: inc.last_seen } } }, ...(byTemplate ? [{ term: { [TEMPLATE_FIELD]: inc.template_id } }] : [])] } },
      aggs: Object.fromEntries(BREAKDOWN_FIELDS.map((f) => [f, { terms: { field: f, size: 5 } }])),
      ignore_unavailable: true,
      allow_no_indices: true,
    } as never);
    for (const f of BREAKDOWN_FIELDS) {
      const buckets = res.aggregations?.[f]?.buckets ?? [];
      if (buckets.length) counts[f] = buckets.map((b: any) => ({ value: String(b.key), count: b.doc_count }));
    }
  } catch {
    // Breakdown is a nicety: triage goes on without it.
  }
  let similar: TriageContext['similar'] = [];
  try {
    const res: any = await es.search({
      index: INCIDENTS_INDEX,
      size: 3,
      query: {
        bool: {
          must: [{ more_like_this: { fields: ['message_template.text', 'summary', 'description'], like: `${inc.message_template} ${inc.summary} ${inc.description}`, min_term_freq: 1, min_doc_freq: 1 } }],
          must_not: [{ ids: { values: [inc.id] } }],
        },
      },
    } as never);
    similar = res.hits.hits.map((h: any) => ({ id: h._id, rule: h._source.rule, status: h._source.status, summary: h._source.summary, resolved_by: h._source.resolved_by, triage_root_cause: h._source.triage?.analysis?.root_cause }));
  } catch {
    similar = [];
  }
  return {
    rule: inc.rule,
    severity: inc.severity,
    description: inc.description,
    runbook: inc.runbook,
    message_template: inc.message_template,
    summary: inc.summary,
    group: inc.group_key,
    counts,
    samples: inc.samples.slice(0, 5).map((s) => redactSecrets(String((s as any).event?.original ?? `${s['@timestamp']} ${(s as any).log?.level ?? ''} ${s.message} ${JSON.stringify((s as any).pos ?? (s as any).chatbot ?? {})}`))),
    similar,
  };
}

const SYSTEM_PROMPT = `You are an SRE assistant triaging incidents from point-of-sale and chat-bot logs.
Answer with one JSON object only, with these keys:
  root_cause (string), category (string: data, configuration, infrastructure, code, external, unknown),
  confidence (number 0..1), suggestions (array of {priority (1 = first), action (string),
  estimated_time (string, e.g. "15m"), automation_possible (boolean)}).`;

export class Triage {
  private readonly llm?: OpenAI;

  constructor(
    private readonly es: Client,
    private readonly openai?: OpenAiConfig,
    private readonly xero?: Xero,
    private readonly observe: (result: 'ok' | 'retryable' | 'refused') => void = () => {},
  ) {
    if (openai) this.llm = new OpenAI({ baseURL: openai.base_url, apiKey: openai.api_key, timeout: openai.timeout, maxRetries: 0 });
  }

  /** Runbook triage (runbook, similar incidents, Xero context) with the reason there is no AI analysis. */
  async runbook(inc: Incident, note: string): Promise<TriageResult> {
    const context = await buildContext(this.es, inc);
    await this.addXero(inc, context);
    return { source: 'runbook', note, runbook: inc.runbook, similar: context.similar, xero: context.xero, xero_note: context.xero_note };
  }

  async run(inc: Incident): Promise<TriageResult> {
    const context = await buildContext(this.es, inc);
    await this.addXero(inc, context);
    const fallback = (note: string): TriageResult => ({ source: 'runbook', note, runbook: inc.runbook, similar: context.similar, xero: context.xero, xero_note: context.xero_note });
    if (!this.llm || !this.openai) return fallback('no LLM configured: runbook and similar past incidents only');
    const started = performance.now();
    let completion;
    try {
      completion = await this.llm.chat.completions.create({
        model: this.openai.model,
        response_format: { type: 'json_object' },
        temperature: 0.2,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: redactSecrets(JSON.stringify(context)) },
        ],
      });
    } catch (err) {
      const classified = classifyOpenAiError(err, this.openai.timeout);
      this.observe(classified instanceof RetryableError ? 'retryable' : 'refused');
      throw classified;
    }
    this.observe('ok');
    const latency = performance.now() - started;
    const text = completion.choices?.[0]?.message?.content ?? '';
    const tokens = { prompt: completion.usage?.prompt_tokens ?? 0, completion: completion.usage?.completion_tokens ?? 0 };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { ...fallback(`LLM answer is not JSON (${text.length} characters): ${text.slice(0, 120)}`), model: this.openai.model, tokens, latency_ms: latency };
    }
    const checked = analysisSchema.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return { ...fallback(`LLM answer does not match the schema: ${issue.path.join('.') || '(top level)'}: ${issue.message}`), model: this.openai.model, tokens, latency_ms: latency };
    }
    return { source: 'llm', analysis: checked.data, runbook: inc.runbook, similar: context.similar, xero: context.xero, xero_note: context.xero_note, model: this.openai.model, tokens, latency_ms: latency };
  }

  private async addXero(inc: Incident, context: TriageContext): Promise<void> {
    if (!this.xero) {
      context.xero_note = 'Xero not configured';
      return;
    }
    try {
      context.xero = await this.xero.contextFor(inc);
      if (!context.xero) context.xero_note = 'Xero has nothing for this error type';
    } catch (err) {
      context.xero_note = `${describeXeroError(err)}; triage went on without it`;
    }
  }
}

/** Connection test for an OpenAI-compatible API: list the models, check ours is served. */
export async function testOpenAi(cfg: OpenAiConfig): Promise<string> {
  const llm = new OpenAI({ baseURL: cfg.base_url, apiKey: cfg.api_key, timeout: cfg.timeout, maxRetries: 0 });
  try {
    const models = await llm.models.list();
    const ids = models.data.map((m) => m.id);
    return ids.includes(cfg.model) ? `model ${cfg.model} available` : `connected; model ${cfg.model} not among the ${ids.length} listed`;
  } catch (err) {
    throw classifyOpenAiError(err, cfg.timeout);
  }
}

/**
 * What went wrong, in words that say it: timed out, unreachable, rate-limited, a server error
 * (all retried from the outbox), or refused — credentials or the request (final).
 */
export function classifyOpenAiError(err: unknown, timeoutMs?: number): Error {
  if (err instanceof OpenAI.APIConnectionTimeoutError) return new RetryableError(`LLM timed out${timeoutMs ? ` after ${timeoutMs / 1000}s` : ''}`);
  if (err instanceof OpenAI.APIConnectionError) {
    const cause = (err as { cause?: Error }).cause;
    return new RetryableError(`LLM unreachable: ${cause?.message ?? err.message}`);
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    const retryAfter = Number(err.headers?.get?.('retry-after'));
    const after = Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined;
    if (status === 429) return new RetryableError(`LLM rate-limited (429): ${err.message}`, after);
    if (status >= 500 || status === 0) return new RetryableError(`LLM ${status || 'connection'} error: ${err.message}`, after);
    if (status === 401 || status === 403) return new Error(`LLM refused our credentials (${status}): ${err.message}`);
    return new Error(`LLM refused the request (${status}): ${err.message}`);
  }
  if ((err as Error)?.name === 'AbortError' || /timed? ?out/i.test((err as Error)?.message ?? '')) return new RetryableError(`LLM timed out${timeoutMs ? ` after ${timeoutMs / 1000}s` : ''}`);
  return new RetryableError(`LLM unreachable: ${(err as Error).message}`);
}
