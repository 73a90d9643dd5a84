// stacklens rules import <elastalert rule files…>: converts ElastAlert2 rules into StackLens
// rule files, and says, file by file and key by key, what could not be carried over and why.
//
// What converts: the rule types StackLens has (any, frequency, spike, flatline, new_term,
// change, cardinality, metric_aggregation, percentage_match; blacklist and whitelist as
// StackLens's own type when it has one, else as `any` with the equivalent filter), the index
// (logs-<dataset>-<namespace> → dataset/namespace, else kept as index:), the filter list
// (term/terms/match → the field map, anything else → query:), ElastAlert's time objects
// ({minutes: 5} → 5m), query_key → group_by, realert, alert → notify (jira, slack, mattermost, ms_teams → teams).
// Every rule written is first loaded by StackLens's own rule loader (loadRuleFile), as the collector would.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Document, isMap, isScalar, parse as parseYaml, visit } from 'yaml';
import { parseDuration } from '@stacklens/common';
import { compileFilter, loadRuleFile, RULE_TYPE_NAMES, SEVERITIES, type Rule, type RuleSpec, type Severity } from '@stacklens/detection';
import { TEMPLATES_DIR } from '@stacklens/elasticsearch';

export const RULES_IMPORT_HELP = `Usage: stacklens rules import <elastalert-rule.yaml|dir>... [--out DIR] [--force]
                              [--severity critical|high|medium|low] [--buffer-time DURATION]

Converts ElastAlert2 rules into StackLens rule files and reports what could not be converted.
  --out          write one <name>.yml per rule into DIR (created if missing); without it the
                 rules are printed to stdout, separated by ---, and the report goes to stderr
  --force        overwrite files that already exist in DIR (never overwritten otherwise)
  --severity     severity of rules without a priority: (ElastAlert2 has no severity; default
                 medium; priority 1 → critical, 2 → high, 3 → medium, 4 and more → low)
  --buffer-time  your ElastAlert2 config.yaml's buffer_time (default 45m): the window of
                 metric_aggregation and percentage_match rules that set neither buffer_time
                 nor bucket_interval

Converted: types any, frequency, spike, flatline, new_term, change, cardinality,
metric_aggregation, percentage_match, blacklist, whitelist; index logs-<dataset>-<namespace>
→ dataset/namespace (another pattern is kept as index:); filter term/terms/match → field
map, other queries → query: (Elasticsearch DSL); {minutes: 5} → 5m; query_key → group_by;
alert jira/slack/mattermost/ms_teams → notify (slack_channel_override → slack:<channel>; ms_teams → teams).
The report has one line per rule and per key not carried over:
  <file>: converted to <name>.yml (<type>)
  <file>: skipped <key>: <why>          the rule could not be converted at all
  <file>: dropped <key>: <why>          the rule was converted without this key
  <file>: changed <key>: <why>          converted, but StackLens behaves differently
  <file>: note <key>: <what to check>
Exit status: 0 when every rule was converted (dropped keys included), 1 when a rule was
skipped, an input could not be read, or a file exists (without --force); 2 on bad usage.
Example: stacklens rules import /etc/elastalert/rules --out rules/`;

// ---------------------------------------------------------------------------------------
// Report

export type ReportLevel = 'converted' | 'skipped' | 'dropped' | 'changed' | 'note';

export interface ReportLine {
  file: string;
  level: ReportLevel;
  /** The ElastAlert2 key the line is about (absent on "converted" lines). */
  key?: string;
  message: string;
}

export function formatReportLine(l: ReportLine): string {
  if (l.level === 'converted') return `${l.file}: ${l.message}`;
  return `${l.file}: ${l.level} ${l.key ?? '(rule)'}: ${l.message}`;
}

export interface ConvertedRule {
  /** The StackLens rule name (and the file's base name). */
  name: string;
  type: string;
  /** The rule file's text: comments, then the YAML. */
  yaml: string;
  spec: RuleSpec;
}

export interface FileResult {
  file: string;
  rules: ConvertedRule[];
  report: ReportLine[];
  /** True when no rule could be made of the file. */
  skipped: boolean;
}

export interface ImportOptions {
  /** Severity of rules without priority (default medium). */
  severity?: Severity;
  /** ElastAlert2's config.yaml buffer_time in ms (default 45 min). */
  bufferTimeMs?: number;
}

class Skip extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------
// Durations: ElastAlert2 writes {minutes: 5}; StackLens 5m.

const TIME_UNITS: Record<string, number> = { weeks: 7 * 86_400_000, days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1000, milliseconds: 1, microseconds: 0.001 };

/** An ElastAlert2 time ({hours: 1, minutes: 30}) in ms; throws a message naming what is wrong. */
export function elastalertDurationMs(value: unknown): number {
  if (!isObject(value) || Object.keys(value).length === 0) throw new Error(`must be a time such as {minutes: 5}, got ${JSON.stringify(value)}`);
  let ms = 0;
  for (const [unit, n] of Object.entries(value)) {
    if (!(unit in TIME_UNITS)) throw new Error(`unknown time unit "${unit}" (ElastAlert2 takes weeks, days, hours, minutes, seconds)`);
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new Error(`${unit}: must be a number ≥ 0, got ${JSON.stringify(n)}`);
    ms += n * TIME_UNITS[unit];
  }
  return Math.round(ms);
}

/** ms as StackLens writes a duration: the largest unit that divides it (5m, 90m, 36h, 1500ms). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

// ---------------------------------------------------------------------------------------
// What StackLens's index templates say about a field (for match → term and ".keyword").

interface FieldKnowledge {
  /** Fields mapped as text (a match query on them is not a term query). */
  text: Set<string>;
  /** Declared sub-fields such as event.reason.keyword. */
  subfields: Set<string>;
}

let knowledge: FieldKnowledge | undefined;

function fieldKnowledge(): FieldKnowledge {
  if (knowledge) return knowledge;
  const k: FieldKnowledge = { text: new Set(), subfields: new Set() };
  try {
    const components = new Set<string>();
    for (const f of readdirSync(join(TEMPLATES_DIR, 'index')).filter((f) => f.endsWith('.json'))) {
      const t = JSON.parse(readFileSync(join(TEMPLATES_DIR, 'index', f), 'utf8'));
      if ((t.index_patterns as string[]).every((p) => p.startsWith('logs-'))) for (const c of t.composed_of ?? []) components.add(c);
    }
    const walk = (props: Record<string, any>, prefix: string) => {
      for (const [name, def] of Object.entries(props ?? {})) {
        const path = prefix + name;
        if (def.properties) walk(def.properties, `${path}.`);
        if (def.type === 'text' || def.type === 'match_only_text') k.text.add(path);
        for (const sub of Object.keys(def.fields ?? {})) k.subfields.add(`${path}.${sub}`);
      }
    };
    for (const c of components) {
      const file = join(TEMPLATES_DIR, 'component', `${c}.json`);
      if (existsSync(file)) walk(JSON.parse(readFileSync(file, 'utf8')).template?.mappings?.properties ?? {}, '');
    }
  } catch {
    // Without the templates nothing is known: match queries stay queries, .keyword stays.
    k.text.add('*');
  }
  knowledge = k;
  return k;
}

// ---------------------------------------------------------------------------------------
// Conversion of one rule

const STACKLENS_TYPES = new Set<string>(RULE_TYPE_NAMES as readonly string[]);

/** ElastAlert2's rule type classes, for rules that name the class (type: elastalert.ruletypes.FrequencyRule). */
const CLASS_TYPES: Record<string, string> = {
  AnyRule: 'any',
  BlacklistRule: 'blacklist',
  WhitelistRule: 'whitelist',
  ChangeRule: 'change',
  FrequencyRule: 'frequency',
  SpikeRule: 'spike',
  FlatlineRule: 'flatline',
  NewTermsRule: 'new_term',
  CardinalityRule: 'cardinality',
  MetricAggregationRule: 'metric_aggregation',
  SpikeMetricAggregationRule: 'spike_aggregation',
  PercentageMatchRule: 'percentage_match',
};

const UNSUPPORTED_TYPES: Record<string, string> = {
  spike_aggregation: 'StackLens has no spike of a metric (its spike type compares event counts); a metric_aggregation rule with a fixed threshold is the nearest',
  error_rate: 'StackLens has no APM error-rate type; a percentage_match rule over the transactions is the nearest',
};

/** Chat and ticket systems StackLens notifies; everything else is reported. */
const NOTIFY_ALERTERS: Record<string, 'jira' | 'slack' | 'mattermost' | 'teams'> = { jira: 'jira', slack: 'slack', mattermost: 'mattermost', ms_teams: 'teams' };

/** Keys each ElastAlert2 alerter reads (prefixes or exact names), to report them with their alerter. */
const ALERTER_KEYS: [string, RegExp][] = [
  ['jira', /^jira_/],
  ['slack', /^slack_/],
  ['mattermost', /^mattermost_/],
  ['email', /^(email|email_.*|smtp_.*|from_addr|cc|bcc|email_reply_to|notify_email|assets_dir)$/],
  ['pagerduty', /^pagerduty_/],
  ['opsgenie', /^opsgenie_/],
  ['ms_teams', /^ms_teams_/],
  ['telegram', /^telegram_/],
  ['post', /^http_post_/],
  ['post2', /^http_post2_/],
  ['command', /^(command|pipe_match_json|pipe_alert_text|fail_on_non_zero_exit)$/],
  ['sns', /^sns_/],
  ['ses', /^ses_/],
  ['victorops', /^victorops_/],
  ['googlechat', /^googlechat_/],
  ['discord', /^discord_/],
  ['rocketchat', /^rocket_chat_/],
  ['servicenow', /^servicenow_/],
  ['alertmanager', /^alertmanager_/],
  ['alerta', /^alerta_/],
  ['twilio', /^twilio_/],
  ['zabbix', /^zbx_/],
  ['hivealerter', /^hive_/],
  ['datadog', /^datadog_/],
  ['dingtalk', /^dingtalk_/],
  ['chatwork', /^chatwork_/],
  ['gitter', /^gitter_/],
  ['lark', /^lark_/],
  ['linenotify', /^linenotify_/],
  ['pagertree', /^pagertree_/],
  ['iris', /^iris_/],
  ['exotel', /^exotel_/],
  ['gelf', /^gelf_/],
  ['stomp', /^stomp_/],
  ['tencent_sms', /^tencent_sms_/],
];

/** Keys StackLens has no use for, grouped by why. */
const DROPPED_KEYS: [RegExp, string][] = [
  [/^(es_host|es_port|es_hosts|es_username|es_password|es_bearer|es_api_key|es_url_prefix|es_send_get_body_as|es_conn_timeout|use_ssl|verify_certs|ca_certs|client_cert|client_key|ssl_show_warn|aws_region|profile|statsd_instance_tag|statsd_host)$/, "connection settings: StackLens reads through the collector's Elasticsearch connection (collector.yaml)"],
  [/^(kibana_.*|generate_kibana_discover_url|shorten_kibana_discover_url|use_kibana4_dashboard|use_kibana_dashboard|kibana4_.*|generate_opensearch_discover_url|opensearch_discover_.*)$/, 'Kibana links: StackLens incidents and tickets link to Kibana and Grafana themselves'],
  [/^(alert_subject|alert_subject_args|alert_subject_max_len|alert_text|alert_text_args|alert_text_kw|alert_text_type|alert_missing_value|jinja_root_name|metric_format_string|percentage_format_string)$/, 'alert text: StackLens writes the incident summary, chat message and ticket itself (put instructions for whoever is on call in runbook:)'],
  [/^(use_count_query|use_terms_query|terms_size|max_query_size|max_scrolling_count|scroll_keepalive|use_keyword_postfix|window_step_size|_source_enabled|include|fields|top_count_keys|top_count_number|raw_count_keys|doc_type|use_local_time|timestamp_type|timestamp_format|timestamp_format_expr|timestamp_to_datetime_format_expr|query_timezone|include_rule_params_in_matches|include_rule_params_in_first_match_only|search_extra_index)$/, 'query tuning: StackLens builds its own Elasticsearch queries (aggregations, on @timestamp)'],
  [/^(buffer_time|query_delay|run_every|scan_entire_timeframe|allow_buffer_time_overlap|use_run_every_query_size|sync_bucket_interval)$/, 'scheduling: StackLens evaluates a rule as its events arrive, and every run_every (window/4 by default)'],
  [/^(aggregation|aggregation_key|aggregate_by_match_time|summary_table_fields|summary_table_type|summary_table_max_rows|summary_prefix|summary_suffix)$/, 'alert aggregation: StackLens already gathers repeated matches into one incident per group and message template'],
  [/^(match_enhancements|run_enhancements_first)$/, 'enhancements are Python modules, which StackLens cannot run'],
  [/^(exponential_realert|realert_key)$/, 'StackLens has one realert per rule and group, without exponential back-off'],
  [/^limit_execution$/, 'StackLens has no cron window for a rule: it runs at all times'],
  [/^(attach_related)$/, 'StackLens keeps the last 5 matching events of an incident as samples'],
  [/^(es_index_mappings|writeback_index|writeback_alias|alert_time_limit|rules_folder|old_query_limit)$/, 'a config.yaml setting, not a rule setting'],
];

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
const isScalarValue = (v: unknown): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v);

/** One StackLens rule made from the ElastAlert2 rule: its type, keys, extra filter clauses. */
interface Variant {
  /** Appended to the rule name when one ElastAlert2 rule becomes several. */
  suffix?: string;
  type: string;
  keys: Obj;
  /** Filter clauses ANDed with the rule's filter. */
  clauses?: Obj[];
  /** Tried when this variant does not pass StackLens validation (e.g. a type StackLens lacks). */
  fallback?: Variant;
  /** The report line for using the fallback. */
  fallbackNote?: string;
}

/** The rule's filter while it is built: term/terms as the field map, the rest as DSL clauses. */
interface FilterBuilder {
  fields: Map<string, string | number | boolean | (string | number | boolean)[]>;
  queries: Obj[];
}

class Converter {
  readonly report: ReportLine[] = [];
  private readonly consumed = new Set<string>();
  /** Whether the index is a StackLens data stream (its field mappings are known). */
  private dataStream = false;
  private readonly keywordRenames = new Map<string, string>();

  constructor(
    readonly file: string,
    private readonly raw: Obj,
    private readonly opts: ImportOptions,
  ) {}

  private line(level: Exclude<ReportLevel, 'converted'>, key: string, message: string): void {
    this.report.push({ file: this.file, level, key, message });
  }
  drop(key: string, why: string): void {
    this.line('dropped', key, why);
  }
  changed(key: string, why: string): void {
    this.line('changed', key, why);
  }
  note(key: string, why: string): void {
    this.line('note', key, why);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }
  take(key: string): unknown {
    this.consumed.add(key);
    return this.raw[key];
  }
  need(key: string, why: string): unknown {
    const v = this.take(key);
    if (v === undefined || v === null) throw new Skip(key, `missing, and ${why}`);
    return v;
  }
  duration(key: string, required: boolean): number | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) {
      if (required) throw new Skip(key, 'missing (ElastAlert2 requires it for this type)');
      return undefined;
    }
    try {
      return elastalertDurationMs(v);
    } catch (err) {
      if (required) throw new Skip(key, (err as Error).message);
      this.drop(key, (err as Error).message);
      return undefined;
    }
  }
  number(key: string, opts: { required?: boolean; integer?: boolean } = {}): number | undefined {
    const v = this.take(key);
    if (v === undefined || v === null) {
      if (opts.required) throw new Skip(key, 'missing (ElastAlert2 requires it for this type)');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
      const msg = `must be ${opts.integer ? 'a whole number' : 'a number'}, got ${JSON.stringify(v)}`;
      if (opts.required) throw new Skip(key, msg);
      this.drop(key, msg);
      return undefined;
    }
    return v;
  }

  /** A field name as StackLens's mappings have it: "host.keyword" → "host" when strings are keywords anyway. */
  field(name: string): string {
    if (!this.dataStream || !name.endsWith('.keyword')) return name;
    const k = fieldKnowledge();
    if (k.text.has('*') || k.subfields.has(name)) return name;
    const base = name.slice(0, -'.keyword'.length);
    if (k.text.has(base)) return name;
    this.keywordRenames.set(name, base);
    return base;
  }
  fieldList(key: string, value: unknown): string[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0 || !list.every((f) => typeof f === 'string' && f !== '')) throw new Skip(key, `must be a field name or a list of field names, got ${JSON.stringify(value)}`);
    return (list as string[]).map((f) => this.field(f));
  }

  convert(): ConvertedRule[] {
    const raw = this.raw;
    // type first: an unsupported type makes everything else moot.
    const type = this.ruleType();

    const { name, original } = this.name();
    const description = typeof raw.description === 'string' && raw.description.trim() ? raw.description.trim() : original !== name ? original : '';
    this.take('description');
    const severity = this.severity();
    const where = this.index();
    const filter = this.filter('filter', raw.filter);
    const groupBy = this.has('query_key') && type !== 'new_term' ? this.fieldList('query_key', this.take('query_key')) : [];
    const variants = this.typeKeys(type, name);
    const realert = this.realert();
    const labels: Obj = {};
    for (const key of ['owner', 'category']) {
      const v = this.take(key);
      if (isScalarValue(v) && v !== '') labels[key] = String(v);
    }
    const notify = this.notify();
    const enabled = this.take('is_enabled');
    this.take('name');
    this.take('type');
    this.take('index');
    this.take('use_strftime_index');
    this.take('import');
    this.take('priority');
    this.timestampField();
    this.leftovers();
    if (JSON.stringify(raw).includes('${')) this.note('${…}', 'StackLens replaces ${NAME} in a rule file with the environment variable NAME of the collector: check that none of these is meant literally');
    for (const [from, to] of this.keywordRenames) this.changed('field names', `${from} → ${to}: StackLens maps strings as keyword, without a .keyword sub-field`);

    const out: ConvertedRule[] = [];
    const usedNames = new Set<string>();
    for (const v of variants) {
      const ruleName = v.suffix ? slug(`${name}-${v.suffix}`) : name;
      const build = (variant: Variant) => {
        const obj: Obj = { name: ruleName, description: variant.suffix && description ? `${description} (${variant.suffix})` : description, severity };
        if (!obj.description) delete obj.description;
        Object.assign(obj, where);
        const f = buildFilter(filter, variant.clauses ?? []);
        if (Object.keys(f).length > 0) obj.filter = f;
        obj.type = variant.type;
        Object.assign(obj, variant.keys);
        if (groupBy.length > 0) obj.group_by = groupBy;
        if (realert !== undefined) obj.realert = realert;
        if (Object.keys(labels).length > 0) obj.labels = labels;
        if (notify.length > 0) obj.notify = notify;
        if (enabled === false) obj.enabled = false;
        return obj;
      };
      let variant = v;
      let obj = build(v);
      let result = validate(obj);
      if ('error' in result && v.fallback) {
        variant = v.fallback;
        obj = build(variant);
        const second = validate(obj);
        if (!('error' in second)) this.changed('type', `${v.fallbackNote ?? `converted as type ${variant.type}`}${STACKLENS_TYPES.has(v.type) ? ` (StackLens's ${v.type} type refused it: ${result.error})` : ''}`);
        result = second;
      }
      if ('error' in result) throw new Skip('(converted rule)', `does not pass StackLens rule validation: ${result.error}`);
      if (usedNames.has(ruleName)) throw new Skip('name', `two rules made from this file would both be named ${ruleName}`);
      usedNames.add(ruleName);
      const comments = this.comments(realert !== undefined, obj);
      out.push({ name: ruleName, type: variant.type, yaml: render(obj, this.header(), comments), spec: result.spec });
      this.offlineNotes(result.rule);
    }
    return out;
  }

  private header(): string[] {
    return [`Imported from the ElastAlert2 rule ${basename(this.file)} by stacklens rules import.`];
  }

  private comments(realert: boolean, obj: Obj): Record<string, string[]> {
    const c: Record<string, string[]> = {};
    if (realert) {
      c.realert = [
        "From ElastAlert2's realert, whose meaning differs: ElastAlert2 sent no alert for this",
        'rule (per query_key) for this long after one. In StackLens new matches update the open',
        'incident and do not alert again; realert delays only the alert of a recurrence after the',
        'incident resolved (auto_resolve, 1h without a match by default).',
      ];
    }
    if (obj.severity && !this.has('priority')) c.severity = ['ElastAlert2 rules have no severity: this one is the importer\'s default (--severity).'];
    return c;
  }

  private offlineNotes(rule: Rule): void {
    const spec = rule.spec;
    if (rule.filter.unsupported) this.note('filter', `"stacklens rules test" cannot evaluate it offline (${rule.filter.unsupported}); the collector asks Elasticsearch, so the rule works live`);
    if (spec.type === 'percentage_match') {
      const m = compileFilter(spec.match_filter);
      if (m.unsupported) this.note('match_bucket_filter', `"stacklens rules test" cannot evaluate it offline (${m.unsupported}); the collector asks Elasticsearch, so the rule works live`);
    }
  }

  private ruleType(): string {
    const t = this.take('type');
    if (typeof t !== 'string' || t === '') throw new Skip('type', `missing or not a name (${JSON.stringify(t)})`);
    const cls = t.includes('.') ? t.slice(t.lastIndexOf('.') + 1) : undefined;
    const type = cls ? CLASS_TYPES[cls] : t;
    if (!type) throw new Skip('type', `"${t}" is a custom rule type (a Python class), which StackLens cannot run`);
    if (UNSUPPORTED_TYPES[type]) throw new Skip('type', `"${type}": ${UNSUPPORTED_TYPES[type]}`);
    if (!STACKLENS_TYPES.has(type) && type !== 'blacklist' && type !== 'whitelist') throw new Skip('type', `"${type}" has no StackLens equivalent (StackLens types: ${[...STACKLENS_TYPES].join(', ')})`);
    return type;
  }

  private name(): { name: string; original: string } {
    const rawName = this.raw.name;
    const original = typeof rawName === 'string' && rawName.trim() ? rawName.trim() : basename(this.file).replace(/\.ya?ml$/i, '');
    if (rawName === undefined) this.note('name', `missing: named after the file, as ElastAlert2 does`);
    const name = slug(original) || slug(basename(this.file).replace(/\.ya?ml$/i, '')) || 'imported-rule';
    if (name !== original) this.changed('name', `"${original}" → ${name} (StackLens rule names are lowercase letters, digits, -, _ and .)`);
    return { name, original };
  }

  private severity(): Severity {
    const p = this.raw.priority;
    if (p === undefined || p === null) return this.opts.severity ?? 'medium';
    if (typeof p !== 'number' || !Number.isInteger(p)) {
      this.drop('priority', `must be a whole number, got ${JSON.stringify(p)}; severity ${this.opts.severity ?? 'medium'} (--severity)`);
      return this.opts.severity ?? 'medium';
    }
    const severity: Severity = p <= 1 ? 'critical' : p === 2 ? 'high' : p === 3 ? 'medium' : 'low';
    this.changed('priority', `${p} → severity: ${severity} (1 critical, 2 high, 3 medium, 4+ low)`);
    return severity;
  }

  private index(): Obj {
    const raw = this.raw.index;
    if (typeof raw !== 'string' || raw.trim() === '') throw new Skip('index', `${raw === undefined ? 'missing' : `not an index pattern (${JSON.stringify(raw)})`}: StackLens needs the data stream (dataset) or index a rule reads`);
    let index = raw.trim();
    if (this.raw.use_strftime_index === true && /%[a-zA-Z]/.test(index)) {
      const pattern = index.replace(/(%[a-zA-Z])+/g, '*').replace(/\*([^*]?\*)+/g, '*');
      this.changed('use_strftime_index', `index ${index} → ${pattern}: StackLens reads every index of the pattern (its queries are bounded by time)`);
      index = pattern;
    }
    const DATA_STREAM = /^logs-([a-z0-9_.*]{1,100})-([a-z0-9_*]{1,100})$/;
    const ds = DATA_STREAM.exec(index);
    if (ds) {
      this.dataStream = true;
      return ds[2] === '*' ? { dataset: ds[1] } : { dataset: ds[1], namespace: ds[2] };
    }
    if (index === 'logs-*') {
      this.dataStream = true;
      return { dataset: '*' };
    }
    const parts = index.split(',').map((p) => p.trim());
    if (parts.length > 1 && parts.every((p) => DATA_STREAM.test(p))) {
      // Several data streams: StackLens's index: takes the same comma-separated list.
      this.dataStream = true;
      return { index: parts.join(',') };
    }
    this.note('index', `${index} is not a StackLens data stream (logs-<dataset>-<namespace>), kept as index: — StackLens's collector writes logs-<dataset>-<namespace>; check that the events there carry the fields this rule uses`);
    return { index };
  }

  private timestampField(): void {
    const t = this.take('timestamp_field');
    if (t !== undefined && t !== '@timestamp') this.drop('timestamp_field', `StackLens reads @timestamp (set by its agent), not ${JSON.stringify(t)}: check that the events this rule reads have @timestamp`);
  }

  // -- filter -----------------------------------------------------------------------------

  /** ElastAlert2's filter list (ANDed) as a StackLens filter under construction. */
  filter(key: string, value: unknown): FilterBuilder {
    this.consumed.add(key);
    const fb: FilterBuilder = { fields: new Map(), queries: [] };
    if (value === undefined || value === null) return fb;
    const items = Array.isArray(value) ? value : [value];
    const legacy = new Set<string>();
    items.forEach((item, i) => {
      const at = `${key}[${i}]`;
      if (!isObject(item)) throw new Skip(at, `must be an Elasticsearch query object, got ${JSON.stringify(item)}`);
      const q = modernize(item, at, legacy);
      if (!this.addSimple(fb, q)) fb.queries.push(q);
    });
    if (legacy.size > 0) this.changed(key, `rewrote ${[...legacy].join(', ')} (Elasticsearch 1.x/2.x filters, removed since) as bool queries`);
    const text = JSON.stringify(fb.queries);
    const keywordFields = [...new Set(text.match(/[A-Za-z0-9_@.-]+\.keyword\b/g) ?? [])].filter((f) => this.field(f) !== f);
    for (const f of keywordFields) this.keywordRenames.delete(f);
    if (keywordFields.length > 0) this.note(key, `the query names ${keywordFields.join(', ')}: StackLens maps strings as keyword without a .keyword sub-field, so use the field without .keyword`);
    return fb;
  }

  /** term/terms/match on one field → the field map (a term or "any of"); false when the clause is more than that. */
  private addSimple(fb: FilterBuilder, q: Obj): boolean {
    const [qt] = Object.keys(q);
    const body = q[qt];
    if (Object.keys(q).length !== 1 || !isObject(body)) return false;
    const entries = Object.entries(body);
    if (entries.length !== 1) return false;
    let [f, v] = entries[0];
    if (qt === 'term' && isObject(v) && Object.keys(v).length === 1 && 'value' in v) v = v.value;
    const simple =
      (qt === 'term' && isScalarValue(v)) ||
      (qt === 'terms' && Array.isArray(v) && v.length > 0 && v.every(isScalarValue)) ||
      (qt === 'match' && isScalarValue(v) && this.matchIsTerm(f, v));
    if (!simple) return false;
    const name = this.field(f);
    if (name === 'query' || fb.fields.has(name)) return false;
    fb.fields.set(name, v as string | number | boolean | (string | number | boolean)[]);
    return true;
  }

  /** A match query is a term query on a keyword or number field (StackLens's templates say which). */
  private matchIsTerm(field: string, value: string | number | boolean): boolean {
    if (typeof value !== 'string') return true;
    if (!this.dataStream) return false;
    const k = fieldKnowledge();
    return !k.text.has('*') && !k.text.has(field);
  }

  // -- type-specific keys -----------------------------------------------------------------

  private typeKeys(type: string, name: string): Variant[] {
    switch (type) {
      case 'any':
        return [{ type, keys: {} }];
      case 'frequency':
        return [{ type, keys: { threshold: this.number('num_events', { required: true, integer: true }), window: fmt(this.duration('timeframe', true)) } }];
      case 'spike': {
        if (this.has('field_value')) throw new Skip('field_value', 'StackLens spikes compare event counts, not the mean of a field');
        const keys: Obj = { window: fmt(this.duration('timeframe', true)), spike_height: this.number('spike_height', { required: true }) };
        const spikeType = this.take('spike_type');
        if (spikeType !== undefined) keys.spike_type = spikeType;
        else this.note('spike_type', 'missing (ElastAlert2 requires it): StackLens takes both');
        for (const k of ['threshold_ref', 'threshold_cur']) {
          const v = this.number(k, { integer: true });
          if (v !== undefined) keys[k] = v;
        }
        const unset = ['threshold_ref', 'threshold_cur'].filter((k) => keys[k] === undefined);
        if (unset.length > 0) this.changed(unset.join(', '), `not set: StackLens's default is 1 (${unset.map((k) => (k === 'threshold_ref' ? 'an event in the reference window' : 'an event in the current window, for a spike up')).join('; ')}), ElastAlert2 had no minimum`);
        if (this.take('alert_on_new_data') === true) this.drop('alert_on_new_data', 'StackLens always waits for a baseline (a group first seen two windows ago) before a spike alerts');
        return [{ type, keys }];
      }
      case 'flatline': {
        const window = this.duration('timeframe', true)!;
        const keys: Obj = { threshold: this.number('threshold', { required: true, integer: true }), window: fmt(window) };
        if (2 * window > 86_400_000) keys.lookback = fmt(2 * window);
        const lb = String(keys.lookback ?? '1d');
        this.changed(
          'timeframe',
          this.has('query_key')
            ? `StackLens watches a query_key value that had events within lookback (${lb}) and forgets one silent for longer; ElastAlert2 kept watching it (unless forget_keys)`
            : `StackLens alerts only when the rule's events stopped: it needs some within lookback (${lb}); ElastAlert2 also alerted when there had never been any`,
        );
        if (this.has('forget_keys')) this.drop('forget_keys', 'StackLens forgets a group that had no event within lookback, and resolves its incident after auto_resolve');
        this.take('forget_keys');
        return [{ type, keys }];
      }
      case 'new_term':
        return this.newTerm(name);
      case 'change':
        return this.change();
      case 'cardinality': {
        const keys: Obj = { field: this.fieldList('cardinality_field', this.need('cardinality_field', 'StackLens needs the field to count'))[0] };
        for (const k of ['max_cardinality', 'min_cardinality']) {
          const v = this.number(k, { integer: true });
          if (v !== undefined) keys[k] = v;
        }
        keys.window = fmt(this.duration('timeframe', true));
        if (keys.max_cardinality === undefined && keys.min_cardinality === undefined) throw new Skip('max_cardinality', 'neither max_cardinality nor min_cardinality is set');
        return [{ type, keys }];
      }
      case 'metric_aggregation':
        return this.metricAggregation();
      case 'percentage_match':
        return this.percentageMatch();
      case 'blacklist':
      case 'whitelist':
        return this.list(type);
    }
    throw new Skip('type', `"${type}" has no StackLens equivalent`);
  }

  private newTerm(name: string): Variant[] {
    let fields = this.take('fields');
    const qk = this.take('query_key');
    if (fields === undefined || fields === null) {
      if (qk === undefined || qk === null) throw new Skip('fields', 'missing, and so is query_key: StackLens needs the fields to watch');
      this.note('query_key', 'used as fields, as ElastAlert2 does when fields is not set');
      fields = [qk];
    } else if (qk !== undefined && qk !== null) {
      this.drop('query_key', 'a new_term rule watches fields:, query_key adds nothing');
    }
    const entries = Array.isArray(fields) ? fields : [fields];
    if (entries.length === 0) throw new Skip('fields', 'an empty list');
    const keys: Obj = {};
    const lookback = this.duration('terms_window_size', false);
    keys.lookback = fmt(lookback ?? 30 * 86_400_000);
    if (lookback === undefined) this.note('terms_window_size', 'not set: lookback 30d, ElastAlert2\'s default (StackLens\'s default is 7d)');
    if (this.take('alert_on_missing_field') === true) this.drop('alert_on_missing_field', 'StackLens alerts only on values: an event without the field is not a new term');
    // ElastAlert2 watches each entry on its own; an entry that is a list is a composite key.
    // StackLens's fields: are one composite key, so every entry becomes its own rule.
    const variants = entries.map((e, i): Variant => {
      const list = this.fieldList(`fields[${i}]`, e);
      return { suffix: entries.length > 1 ? list.join('-') : undefined, type: 'new_term', keys: { fields: list, ...keys } };
    });
    if (variants.length > 1) this.changed('fields', `${entries.length} fields watched separately: one StackLens rule each (${variants.map((v) => slug(`${name}-${v.suffix}`)).join(', ')}), as StackLens's fields: form one composite key`);
    return variants;
  }

  private change(): Variant[] {
    const compare = this.need('compare_key', 'StackLens needs the field to watch');
    const list = this.fieldList('compare_key', compare);
    if (!this.has('query_key')) this.note('query_key', 'missing (ElastAlert2 requires it): StackLens compares the latest two events of the whole rule');
    const keys: Obj = {};
    const ignoreNull = this.take('ignore_null');
    keys.ignore_null = ignoreNull === true;
    if (ignoreNull === undefined) this.note('ignore_null', "not set: false, ElastAlert2's default (StackLens's default is true)");
    const lookback = this.duration('timeframe', false);
    if (lookback !== undefined) keys.lookback = fmt(lookback);
    else this.changed('timeframe', 'not set: ElastAlert2 remembered the last value for ever, StackLens looks back 1d (set lookback: to change it)');
    if (list.length > 1) this.changed('compare_key', `${list.length} fields: one StackLens rule each (a change of any of them alerted in ElastAlert2)`);
    return list.map((f) => ({ suffix: list.length > 1 ? f : undefined, type: 'change', keys: { compare_key: f, ...keys } }));
  }

  /** metric_aggregation and percentage_match: the window is bucket_interval, else buffer_time. */
  private aggregationWindow(): string {
    const bucket = this.duration('bucket_interval', false);
    const buffer = this.duration('buffer_time', false);
    if (this.take('use_run_every_query_size') === true) {
      const runEvery = this.duration('run_every', false);
      if (runEvery !== undefined && bucket === undefined) return formatDurationMs(runEvery);
    }
    if (bucket !== undefined) {
      this.changed('bucket_interval', `window ${formatDurationMs(bucket)}: StackLens measures the last ${formatDurationMs(bucket)} at every evaluation, where ElastAlert2 measured each bucket of buffer_time`);
      return formatDurationMs(bucket);
    }
    if (buffer !== undefined) return formatDurationMs(buffer);
    const dflt = this.opts.bufferTimeMs ?? 45 * 60_000;
    this.note('buffer_time', `not set in the rule: window ${formatDurationMs(dflt)}, from --buffer-time (ElastAlert2 took config.yaml's buffer_time)`);
    return formatDurationMs(dflt);
  }

  private metricAggregation(): Variant[] {
    if (this.has('metric_agg_script')) throw new Skip('metric_agg_script', 'StackLens aggregates a field, not a Painless script');
    const field = this.fieldList('metric_agg_key', this.need('metric_agg_key', 'StackLens needs the field to aggregate'))[0];
    const agg = this.need('metric_agg_type', 'StackLens needs the aggregation');
    const max = this.number('max_threshold');
    const min = this.number('min_threshold');
    if (max === undefined && min === undefined) throw new Skip('max_threshold', 'neither max_threshold nor min_threshold is set');
    const window = this.aggregationWindow();
    const minDocCount = this.number('min_doc_count', { integer: true });
    const percentile = this.take('percentile_range');
    if (agg === 'cardinality') {
      // Distinct values beyond a limit is StackLens's cardinality type (limits are whole numbers there).
      const keys: Obj = { field };
      if (max !== undefined) keys.max_cardinality = Math.max(0, Math.floor(max));
      if (min !== undefined) keys.min_cardinality = Math.max(0, Math.ceil(min));
      keys.window = window;
      this.changed('metric_agg_type', 'cardinality: converted to StackLens\'s cardinality type (max_threshold → max_cardinality, min_threshold → min_cardinality)');
      if (minDocCount !== undefined && minDocCount > 1) this.drop('min_doc_count', 'StackLens\'s cardinality type has no minimum event count');
      return [{ type: 'cardinality', keys }];
    }
    const METRICS: Record<string, string> = { avg: 'avg', min: 'min', max: 'max', sum: 'sum', percentiles: 'percentile' };
    const metric = typeof agg === 'string' ? METRICS[agg] : undefined;
    if (!metric) throw new Skip('metric_agg_type', `${JSON.stringify(agg)}: StackLens aggregates avg, min, max, sum and percentiles${agg === 'value_count' ? ' (a count of events is a frequency or flatline rule)' : ''}`);
    const keys: Obj = { field, metric };
    if (metric === 'percentile') {
      if (typeof percentile !== 'number') throw new Skip('percentile_range', `metric_agg_type percentiles needs percentile_range (a number), got ${JSON.stringify(percentile)}`);
      keys.percentile = percentile;
    }
    if (max !== undefined) keys.max_threshold = max;
    if (min !== undefined) keys.min_threshold = min;
    if (minDocCount !== undefined) keys.min_doc_count = minDocCount;
    keys.window = window;
    return [{ type: 'metric_aggregation', keys }];
  }

  private percentageMatch(): Variant[] {
    const bucket = this.need('match_bucket_filter', 'StackLens needs the filter of the matching share');
    const fb = this.filter('match_bucket_filter', bucket);
    const matchFilter = buildFilter(fb, []);
    if (Object.keys(matchFilter).length === 0) throw new Skip('match_bucket_filter', 'is empty: every event would match');
    const keys: Obj = { match_filter: matchFilter };
    for (const k of ['max_percentage', 'min_percentage']) {
      const v = this.number(k);
      if (v !== undefined) keys[k] = v;
    }
    if (keys.max_percentage === undefined && keys.min_percentage === undefined) throw new Skip('max_percentage', 'neither max_percentage nor min_percentage is set');
    keys.min_denominator = this.number('min_denominator', { integer: true }) ?? 0;
    keys.window = this.aggregationWindow();
    return [{ type: 'percentage_match', keys }];
  }

  /** blacklist/whitelist: StackLens's own type if it has one, else `any` with the same filter. */
  private list(type: 'blacklist' | 'whitelist'): Variant[] {
    const field = this.fieldList('compare_key', this.need('compare_key', 'StackLens needs the field to compare'))[0];
    const raw = this.need(type, `StackLens needs the ${type}ed values`);
    if (!Array.isArray(raw) || raw.length === 0) throw new Skip(type, `must be a list of values, got ${JSON.stringify(raw)}`);
    const values: (string | number | boolean)[] = [];
    for (const entry of raw) {
      const file = typeof entry === 'string' ? /^!file\s+(.+)$/.exec(entry.trim())?.[1] : undefined;
      if (file) {
        const path = [resolve(dirname(this.file), file), resolve(file)].find((p) => existsSync(p));
        if (!path) throw new Skip(type, `"!file ${file}": the file cannot be read here, so its values cannot be copied into the rule`);
        const lines = readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
        this.changed(type, `"!file ${file}": its ${lines.length} values copied into the rule (StackLens rules are one file each)`);
        values.push(...lines);
      } else if (isScalarValue(entry)) values.push(entry);
      else throw new Skip(type, `entries must be values or "!file <path>", got ${JSON.stringify(entry)}`);
    }
    const ignoreNull = this.take('ignore_null');
    const nativeKeys: Obj = { compare_key: field, [type]: values };
    if (type === 'whitelist') nativeKeys.ignore_null = ignoreNull === true;
    else if (ignoreNull !== undefined) this.drop('ignore_null', 'a blacklist never matches an event without the field');
    // The same matches as a filter: the field is one of the values / none of them.
    const clause: Obj =
      type === 'blacklist'
        ? { terms: { [field]: values } }
        : { bool: { ...(ignoreNull === true ? { filter: [{ exists: { field } }] } : {}), must_not: [{ terms: { [field]: values } }] } };
    const fallback: Variant = { type: 'any', keys: {}, clauses: [clause] };
    const equivalent = `type any with the filter "${field} is ${type === 'blacklist' ? 'one' : 'none'} of the ${type}${type === 'whitelist' && ignoreNull === true ? ' (and present)' : ''}" — the same matches`;
    if (!STACKLENS_TYPES.has(type)) {
      this.changed('type', `StackLens has no ${type} type: converted as ${equivalent}`);
      return [fallback];
    }
    return [{ type, keys: nativeKeys, fallback, fallbackNote: `converted as ${equivalent}` }];
  }

  // -- realert, alert → notify, the rest ---------------------------------------------------

  private realert(): string | undefined {
    const ms = this.duration('realert', false);
    if (ms === undefined) return undefined;
    this.changed('realert', `${fmt(ms)}, but StackLens alerts once per incident and realert only holds back the alert of a recurrence after it resolved (explained in a comment in the file)`);
    return fmt(ms);
  }

  private notify(): string[] {
    const alert = this.take('alert');
    if (alert === undefined || alert === null) return [];
    const entries = Array.isArray(alert) ? alert : [alert];
    const notify: string[] = [];
    const add = (n: string) => {
      if (!notify.includes(n)) notify.push(n);
    };
    const inline: Obj = {};
    const used = new Set<string>();
    for (const entry of entries) {
      let name: string;
      let options: Obj = {};
      if (typeof entry === 'string') name = entry;
      else if (isObject(entry) && Object.keys(entry).length === 1) {
        name = Object.keys(entry)[0];
        options = isObject(entry[name]) ? (entry[name] as Obj) : {};
      } else {
        this.drop('alert', `entry ${JSON.stringify(entry)} is not an alerter name`);
        continue;
      }
      const alerter = alerterName(name);
      used.add(alerter);
      const target = NOTIFY_ALERTERS[alerter];
      if (!target) {
        this.drop(`alert: ${name}`, alerter === 'debug' ? 'the debug alerter only logs; StackLens records every incident (GET /api/incidents, Kibana)' : `StackLens notifies Jira, Slack, Mattermost and Microsoft Teams only; the incident is still recorded (GET /api/incidents, Kibana) — route it to ${alerter} from there`);
        continue;
      }
      const channelKey = `${target}_channel_override`;
      const channels = options[channelKey] ?? this.raw[channelKey];
      if (target !== 'jira' && target !== 'teams' && channels !== undefined) {
        this.consumed.add(channelKey);
        const list = (Array.isArray(channels) ? channels : [channels]).filter((c) => typeof c === 'string' && c !== '');
        for (const c of list) add(`${target}:${c}`);
        if (list.length === 0) add(target);
      } else add(target);
      for (const k of Object.keys(options)) if (k !== channelKey) inline[k] = options[k];
    }
    // The alerters' own settings: reported with their alerter, once per alerter.
    const byAlerter = new Map<string, string[]>();
    const keys = [...Object.keys(this.raw).filter((k) => !this.consumed.has(k)), ...Object.keys(inline).map((k) => `alert.${k}`)];
    for (const key of keys) {
      const bare = key.replace(/^alert\./, '');
      const owner = ALERTER_KEYS.find(([, re]) => re.test(bare))?.[0];
      if (!owner) continue;
      if (!key.startsWith('alert.')) this.consumed.add(key);
      byAlerter.set(owner, [...(byAlerter.get(owner) ?? []), key]);
    }
    for (const [owner, list] of byAlerter) {
      const target = NOTIFY_ALERTERS[owner];
      this.drop(
        list.join(', '),
        target
          ? `${owner} is configured once for all rules in collector.yaml (integrations.${target}) or the admin API${owner === 'jira' ? '; StackLens finds the open ticket of an incident by its fingerprint' : "; a rule's incidents go to its team's channels (labels.team) unless notify names one"}`
          : used.has(owner)
            ? `a setting of the ${owner} alerter, which StackLens does not have`
            : `a setting of the ${owner} alerter, which this rule does not use`,
      );
    }
    if (notify.length === 0 && entries.length > 0) this.note('alert', 'no alerter StackLens has: the rule records incidents and notifies nobody');
    return notify;
  }

  private leftovers(): void {
    const byReason = new Map<string, string[]>();
    for (const key of Object.keys(this.raw)) {
      if (this.consumed.has(key)) continue;
      const reason = DROPPED_KEYS.find(([re]) => re.test(key))?.[1] ?? `not a key StackLens (or this importer) knows for a ${this.raw.type} rule`;
      byReason.set(reason, [...(byReason.get(reason) ?? []), key]);
    }
    for (const [reason, keys] of byReason) this.drop(keys.join(', '), reason);
  }
}

function alerterName(name: string): string {
  // elastalert.alerters.slack.SlackAlerter / elastalert.alerts.JiraAlerter → slack / jira
  if (!name.includes('.')) return name.toLowerCase();
  const cls = name.slice(name.lastIndexOf('.') + 1).replace(/Alerter$/, '').toLowerCase();
  return cls === 'hive' ? 'hivealerter' : cls;
}

/** ES 1.x/2.x filters (not, and, or, missing, query wrappers) as the bool queries of today. */
function modernize(q: Obj, at: string, legacy: Set<string>): Obj {
  const keys = Object.keys(q);
  if (keys.length !== 1) return q;
  const [k] = keys;
  const v = q[k];
  const list = (x: unknown): Obj[] => {
    const arr = Array.isArray(x) ? x : isObject(x) && Array.isArray(x.filters) ? x.filters : undefined;
    if (!arr || !arr.every(isObject)) throw new Skip(at, `"${k}" must hold a list of filters`);
    return arr.map((f) => modernize(f, at, legacy));
  };
  switch (k) {
    case 'query':
      // ElastAlert2 unwraps {query: {...}} items itself.
      return isObject(v) ? modernize(v, at, legacy) : q;
    case 'eql':
      throw new Skip(at, 'an EQL query: StackLens filters are Elasticsearch query DSL');
    case 'not': {
      if (!isObject(v)) throw new Skip(at, '"not" must hold a filter');
      legacy.add('not');
      const inner = 'filter' in v && isObject(v.filter) ? (v.filter as Obj) : v;
      return { bool: { must_not: [modernize(inner, at, legacy)] } };
    }
    case 'and':
      legacy.add('and');
      return { bool: { must: list(v) } };
    case 'or':
      legacy.add('or');
      return { bool: { should: list(v), minimum_should_match: 1 } };
    case 'missing':
      if (!isObject(v) || typeof v.field !== 'string') throw new Skip(at, '"missing" must name a field');
      legacy.add('missing');
      return { bool: { must_not: [{ exists: { field: v.field } }] } };
    case 'bool': {
      if (!isObject(v)) return q;
      const out: Obj = { ...v };
      for (const occur of ['must', 'filter', 'should', 'must_not']) {
        const c = v[occur];
        if (Array.isArray(c)) out[occur] = c.map((x) => (isObject(x) ? modernize(x, at, legacy) : x));
        else if (isObject(c)) out[occur] = modernize(c, at, legacy);
      }
      return { bool: out };
    }
  }
  return q;
}

function buildFilter(fb: FilterBuilder, extra: Obj[]): Obj {
  const f: Obj = {};
  const queries = [...fb.queries];
  for (const [k, v] of fb.fields) f[k] = v;
  for (const c of extra) {
    const [qt] = Object.keys(c);
    const body = c[qt] as Obj;
    const [field, value] = Object.entries(body)[0];
    if (qt === 'terms' && field !== 'query' && !(field in f)) f[field] = value;
    else queries.push(c);
  }
  if (queries.length === 1) f.query = queries[0];
  else if (queries.length > 1) f.query = { bool: { must: queries } };
  return f;
}

function fmt(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : formatDurationMs(ms);
}

/** A StackLens rule name: lowercase letters, digits, -, _ and . (at most 100). */
export function slug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 100)
    .replace(/[-_.]+$/, '');
}

/** ${NAME} left as it is: validation must not depend on this machine's environment. */
const KEEP_ENV = new Proxy({} as Record<string, string | undefined>, { get: (_t, k) => (typeof k === 'string' ? `\${${k}}` : undefined) });

/** Validation by StackLens's rule loader itself (loadRuleFile), on a scratch copy of the rule. */
function validate(obj: Obj): { spec: RuleSpec; rule: Rule } | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stacklens-import-'));
  const path = join(dir, `${obj.name}.yml`);
  try {
    writeFileSync(path, render(obj, [], {}));
    const rule = loadRuleFile(path, KEEP_ENV);
    return { spec: rule.spec, rule };
  } catch (err) {
    return { error: (err as Error).message.split(path).join(`${obj.name}.yml`).replace(/\n/g, '; ') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function render(obj: Obj, header: string[], comments: Record<string, string[]>): string {
  const doc = new Document(obj);
  if (header.length > 0) doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (comments[key]) pair.key.commentBefore = comments[key].map((l) => ` ${l}`).join('\n');
      // labels: {team: pos}, as the shipped rules write it.
      if (key === 'labels' && isMap(pair.value)) pair.value.flow = true;
    }
  }
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

// ---------------------------------------------------------------------------------------
// Files

/** Reads an ElastAlert2 rule file, following `import:` (a base file whose keys the rule overrides). */
function readRule(file: string, depth = 0): Obj {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Skip('(file)', `cannot read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Skip('(file)', `invalid YAML: ${(err as Error).message.split('\n')[0].replace(/:$/, '')}`);
  }
  if (!isObject(raw)) throw new Skip('(file)', 'not a YAML mapping of rule keys');
  if (typeof raw.import === 'string' && raw.import !== '') {
    if (depth >= 10) throw new Skip('import', 'imports nest more than 10 deep');
    const base = resolve(dirname(file), raw.import);
    const parent = readRule(base, depth + 1);
    return { ...parent, ...raw };
  }
  return raw;
}

export function convertElastAlertFile(file: string, opts: ImportOptions = {}): FileResult {
  let raw: Obj;
  try {
    raw = readRule(file);
  } catch (err) {
    if (!(err instanceof Skip)) throw err;
    return { file, rules: [], report: [{ file, level: 'skipped', key: err.key, message: err.message }], skipped: true };
  }
  return convertElastAlertRule(raw, file, opts);
}

/** Converts one parsed ElastAlert2 rule (`file` names it in the report). */
export function convertElastAlertRule(raw: Obj, file: string, opts: ImportOptions = {}): FileResult {
  const c = new Converter(file, raw, opts);
  if (typeof raw.import === 'string') c.note('import', `merged with ${raw.import}, whose keys this rule overrides`);
  try {
    const rules = c.convert();
    return { file, rules, report: c.report, skipped: false };
  } catch (err) {
    if (!(err instanceof Skip)) throw err;
    // Only the reason the rule could not be converted: the rest is moot.
    return { file, rules: [], report: [{ file, level: 'skipped', key: err.key, message: err.message }], skipped: true };
  }
}

function inputFiles(paths: string[]): { files: string[]; errors: string[] } {
  const files: string[] = [];
  const errors: string[] = [];
  for (const p of paths) {
    let stat;
    try {
      stat = statSync(p);
    } catch (err) {
      errors.push(`${p}: cannot read: ${(err as Error).message}`);
      continue;
    }
    if (!stat.isDirectory()) files.push(p);
    else
      files.push(
        ...readdirSync(p)
          .filter((f) => /\.ya?ml$/i.test(f) && !f.startsWith('.'))
          .sort()
          .map((f) => join(p, f)),
      );
  }
  return { files, errors };
}

// ---------------------------------------------------------------------------------------
// The command

export async function rulesImportCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { out: { type: 'string' }, force: { type: 'boolean' }, severity: { type: 'string' }, 'buffer-time': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`stacklens rules import: ${(err as Error).message}\n\n${RULES_IMPORT_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${RULES_IMPORT_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0) {
    process.stderr.write(`stacklens rules import: name the ElastAlert2 rule files (or directories) to convert\n\n${RULES_IMPORT_HELP}\n`);
    return 2;
  }
  if (values.severity !== undefined && !(SEVERITIES as readonly string[]).includes(values.severity)) {
    process.stderr.write(`stacklens rules import: --severity must be one of ${SEVERITIES.join(', ')}, got "${values.severity}"\n`);
    return 2;
  }
  let bufferTimeMs: number | undefined;
  if (values['buffer-time'] !== undefined) {
    try {
      bufferTimeMs = parseDuration(values['buffer-time']);
      if (bufferTimeMs < 1000) throw new Error('must be at least 1s');
    } catch (err) {
      process.stderr.write(`stacklens rules import: --buffer-time: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const opts: ImportOptions = { severity: values.severity as Severity | undefined, bufferTimeMs };
  const out = values.out;
  const report = (line: string) => (out ? process.stdout : process.stderr).write(`${line}\n`);

  const { files, errors } = inputFiles(positionals);
  let failed = errors.length > 0;
  for (const e of errors) report(e);
  if (out) mkdirSync(out, { recursive: true });
  const written = new Map<string, string>();
  const docs: string[] = [];
  let converted = 0;
  let skipped = 0;
  let notWritten = 0;
  for (const file of files) {
    const result = convertElastAlertFile(file, opts);
    if (result.skipped) {
      skipped++;
      failed = true;
    }
    const head: ReportLine[] = [];
    for (const rule of result.rules) {
      const target = `${rule.name}.yml`;
      const clash = written.get(rule.name);
      if (clash) {
        head.push({ file, level: 'skipped', key: 'name', message: `${rule.name} is already the name of the rule converted from ${clash}` });
        failed = true;
        notWritten++;
        continue;
      }
      if (out) {
        const path = join(out, target);
        if (existsSync(path) && !values.force) {
          head.push({ file, level: 'skipped', key: 'name', message: `${path} exists and was not overwritten (--force overwrites it)` });
          failed = true;
          notWritten++;
          continue;
        }
        writeFileSync(path, rule.yaml);
        head.push({ file, level: 'converted', message: `converted to ${path} (${rule.type})` });
      } else {
        docs.push(rule.yaml);
        head.push({ file, level: 'converted', message: `converted to rule ${rule.name} (${rule.type}), printed on stdout` });
      }
      written.set(rule.name, file);
      converted++;
    }
    for (const l of [...head, ...result.report]) report(formatReportLine(l));
  }
  if (!out && docs.length > 0) process.stdout.write(docs.join('---\n'));
  report(`${files.length} ElastAlert2 rule file(s): ${converted} StackLens rule(s) ${out ? `written to ${out}` : 'printed'}, ${skipped} file(s) skipped${notWritten ? `, ${notWritten} rule(s) not written` : ''}`);
  return failed ? 1 : 0;
}
