// stacklens rules import: ElastAlert2 rules (test/fixtures/elastalert) → StackLens rule files,
// each checked by StackLens's own loader, and the report of what could not be converted.
// Needs no Elasticsearch; the CLI tests run the built CLI (npx tsc -b first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadRuleFile, loadRules, RULE_TYPE_NAMES } from '@stacklens/detection';
import { convertElastAlertFile, convertElastAlertRule, elastalertDurationMs, formatDurationMs, formatReportLine, slug } from './rules-import.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const FIXTURES = join(REPO, 'test', 'fixtures', 'elastalert');
const fixture = (name: string) => join(FIXTURES, name);
const tempDir = () => mkdtempSync(join(tmpdir(), 'stacklens-import-'));
const HAS_BLACKLIST = (RULE_TYPE_NAMES as readonly string[]).includes('blacklist');

/** The converted rule(s) of a fixture as plain objects (the YAML as written), and the report text. */
function convert(name: string, opts = {}) {
  const r = convertElastAlertFile(fixture(name), opts);
  return { ...r, objs: r.rules.map((x) => parse(x.yaml)), text: r.report.map(formatReportLine).join('\n') };
}

function inline(yamlText: string, opts = {}) {
  const r = convertElastAlertRule(parse(yamlText), 'inline.yaml', opts);
  return { ...r, objs: r.rules.map((x) => parse(x.yaml)), text: r.report.map(formatReportLine).join('\n') };
}

describe('ElastAlert2 times and names', () => {
  it('converts {minutes: 5} and friends into StackLens durations', () => {
    expect(formatDurationMs(elastalertDurationMs({ minutes: 5 }))).toBe('5m');
    expect(formatDurationMs(elastalertDurationMs({ hours: 1, minutes: 30 }))).toBe('90m');
    expect(formatDurationMs(elastalertDurationMs({ weeks: 1 }))).toBe('7d');
    expect(formatDurationMs(elastalertDurationMs({ seconds: 90 }))).toBe('90s');
    expect(formatDurationMs(elastalertDurationMs({ minutes: 0.5 }))).toBe('30s');
    expect(formatDurationMs(elastalertDurationMs({ minutes: 0 }))).toBe('0s');
    expect(() => elastalertDurationMs({ fortnights: 1 })).toThrow('unknown time unit "fortnights"');
    expect(() => elastalertDurationMs('5m')).toThrow('must be a time such as {minutes: 5}');
  });

  it('makes StackLens rule names', () => {
    expect(slug('POS missing price')).toBe('pos-missing-price');
    expect(slug('Café: 5xx / checkout!')).toBe('cafe-5xx-checkout');
    expect(slug('--x--')).toBe('x');
  });
});

describe('each supported type converts and passes StackLens validation', () => {
  it('frequency: index → dataset, term → field map, query_key.keyword → group_by, priority → severity, alert → notify, realert with a comment', () => {
    const r = convert('pos-missing-price.yaml');
    expect(r.skipped).toBe(false);
    expect(r.objs).toEqual([
      {
        name: 'pos-missing-price',
        description: 'POS missing price',
        severity: 'critical',
        dataset: 'pos',
        filter: { 'error.type': 'MISSING_PRICE' },
        type: 'frequency',
        threshold: 3,
        window: '1m',
        group_by: ['pos.store_id'],
        realert: '10m',
        labels: { owner: 'pos-team' },
        notify: ['jira', 'slack:#pos-oncall'],
      },
    ]);
    const yaml = r.rules[0].yaml;
    expect(yaml).toMatch(/^# Imported from the ElastAlert2 rule pos-missing-price\.yaml/);
    expect(yaml).toMatch(/# From ElastAlert2's realert, whose meaning differs[^]*\nrealert: 10m\n/);
    expect(r.text).toContain('pos-missing-price.yaml: changed name: "POS missing price" → pos-missing-price');
    expect(r.text).toContain('changed priority: 1 → severity: critical');
    expect(r.text).toContain('changed field names: pos.store_id.keyword → pos.store_id: StackLens maps strings as keyword');
    expect(r.text).toContain('dropped jira_server, jira_project, jira_issuetype, jira_account_file, jira_labels: jira is configured once for all rules in collector.yaml');
    expect(r.text).toContain('dropped es_host, es_port: connection settings');
    expect(r.text).toContain('dropped alert_subject, alert_subject_args, alert_text: alert text: StackLens writes the incident summary');
    expect(r.text).not.toContain('slack_channel_override');
  });

  it('any, spike, flatline, change, cardinality, percentage_match', () => {
    const pick = (name: string) => convert(name).objs[0];
    expect(pick('pos-invalid-store-config.yaml')).toMatchObject({ type: 'any', dataset: 'pos', namespace: 'default', filter: { 'error.type': 'INVALID_STORE_CONFIG' }, group_by: ['pos.store_id'], realert: '1h', notify: ['slack'] });
    expect(pick('pos-error-spike.yaml')).toMatchObject({ type: 'spike', filter: { 'log.level': ['error', 'critical'] }, window: '5m', spike_height: 3, spike_type: 'up', threshold_ref: 10, threshold_cur: 20, group_by: ['pos.store_id'], notify: ['mattermost:pos-alerts'] });
    expect(pick('chatbot-silent.yaml')).toEqual({
      name: 'chatbot-silent',
      description: 'The chat bot wrote nothing for 5 minutes',
      severity: 'medium',
      dataset: 'chatbot',
      namespace: 'default',
      type: 'flatline',
      threshold: 1,
      window: '5m',
      realert: '30m',
      notify: ['slack'],
    });
    expect(pick('pos-price-change.yaml')).toMatchObject({ type: 'change', compare_key: 'pos.price', ignore_null: true, lookback: '1d', group_by: ['pos.product_id'] });
    expect(pick('pos-kiosks-failing.yaml')).toMatchObject({ type: 'cardinality', field: 'pos.kiosk_id', max_cardinality: 3, window: '10m', group_by: ['pos.store_id'], notify: ['jira'] });
    expect(pick('pos-payment-failure-rate.yaml')).toMatchObject({
      type: 'percentage_match',
      filter: { 'event.action': ['payment', 'order'] },
      match_filter: { 'error.type': 'PAYMENT_FAILED' },
      max_percentage: 10,
      min_denominator: 50,
      window: '30m',
      group_by: ['pos.store_id'],
    });
  });

  it('new_term: query wrapper → query:, terms_window_size → lookback', () => {
    const r = convert('chatbot-new-error.yaml');
    expect(r.objs[0]).toMatchObject({ type: 'new_term', dataset: 'chatbot', fields: ['stacklens.message_template'], lookback: '7d', filter: { query: { query_string: { query: 'log.level: error' } } } });
    expect(r.text).toContain('note filter: "stacklens rules test" cannot evaluate it offline');
  });

  it('metric_aggregation: percentiles → percentile, buffer_time → window, match on a keyword field → field map', () => {
    const r = convert('chatbot-slow-replies.yaml');
    expect(r.objs[0]).toMatchObject({ type: 'metric_aggregation', filter: { 'chatbot.event': 'message_out' }, field: 'chatbot.response_time_ms', metric: 'percentile', percentile: 95, max_threshold: 2000, min_doc_count: 100, window: '10m', notify: ['slack', 'mattermost'] });
  });

  it('blacklist and whitelist: StackLens\'s own type when it has one, else any with the same filter; !file values copied', () => {
    const black = convert('pos-blocked-payment-methods.yaml');
    const white = convert('pos-unknown-store.yaml');
    if (HAS_BLACKLIST && black.objs[0].type === 'blacklist') {
      expect(black.objs[0]).toMatchObject({ compare_key: 'pos.payment_method', blacklist: ['LEGACY_GIFT_CARD', 'PAPER_VOUCHER', 'CHEQUE'] });
    } else {
      expect(black.objs[0]).toMatchObject({ type: 'any', filter: { 'pos.payment_method': ['LEGACY_GIFT_CARD', 'PAPER_VOUCHER', 'CHEQUE'] }, group_by: ['pos.store_id'] });
      expect(black.text).toContain('changed type:');
      expect(black.text).toContain('"pos.payment_method is one of the blacklist" — the same matches');
    }
    expect(black.text).toContain('changed blacklist: "!file blocked-payment-methods.txt": its 2 values copied into the rule');
    if (!(HAS_BLACKLIST && white.objs[0].type === 'whitelist')) {
      expect(white.objs[0]).toMatchObject({
        type: 'any',
        filter: { query: { bool: { filter: [{ exists: { field: 'pos.store_id' } }], must_not: [{ terms: { 'pos.store_id': ['STORE_001', 'STORE_002', 'STORE_003'] } }] } } },
      });
    }
  });

  it('splits new_term fields watched separately, and change of several compare keys, into one rule each', () => {
    const nt = inline('name: chatbot-new-values\ntype: new_term\nindex: logs-chatbot-*\nfields: [chatbot.intent, [pos.store_id, pos.kiosk_id]]\n');
    expect(nt.objs.map((o) => [o.name, o.fields, o.lookback])).toEqual([
      ['chatbot-new-values-chatbot.intent', ['chatbot.intent'], '30d'],
      ['chatbot-new-values-pos.store_id-pos.kiosk_id', ['pos.store_id', 'pos.kiosk_id'], '30d'],
    ]);
    expect(nt.text).toContain('changed fields: 2 fields watched separately: one StackLens rule each');
    expect(nt.text).toContain("note terms_window_size: not set: lookback 30d, ElastAlert2's default");
    const ch = inline('name: store-config\ntype: change\nindex: logs-pos-*\ncompare_key: [pos.price, pos.product_name]\nquery_key: pos.product_id\n');
    expect(ch.objs.map((o) => [o.name, o.compare_key, o.ignore_null, o.lookback])).toEqual([
      ['store-config-pos.price', 'pos.price', false, undefined],
      ['store-config-pos.product_name', 'pos.product_name', false, undefined],
    ]);
    expect(ch.text).toContain('changed timeframe: not set: ElastAlert2 remembered the last value for ever, StackLens looks back 1d');
  });

  it('metric_aggregation of cardinality becomes a cardinality rule; no buffer_time takes --buffer-time', () => {
    const r = inline('name: many-kiosks\ntype: metric_aggregation\nindex: logs-pos-*\nmetric_agg_key: pos.kiosk_id\nmetric_agg_type: cardinality\nmax_threshold: 4.5\n', { bufferTimeMs: 15 * 60_000 });
    expect(r.objs[0]).toMatchObject({ type: 'cardinality', field: 'pos.kiosk_id', max_cardinality: 4, window: '15m' });
    expect(r.text).toContain('note buffer_time: not set in the rule: window 15m, from --buffer-time');
  });

  it('imports a base file named by import:', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'base.yaml'), 'index: logs-pos-*\nalert: [slack]\nrealert: {minutes: 5}\n');
    writeFileSync(join(dir, 'rule.yaml'), 'import: base.yaml\nname: pos-errors\ntype: frequency\nnum_events: 10\ntimeframe: {minutes: 2}\nfilter: [{term: {log.level: error}}]\n');
    const r = convertElastAlertFile(join(dir, 'rule.yaml'));
    expect(parse(r.rules[0].yaml)).toMatchObject({ dataset: 'pos', threshold: 10, window: '2m', realert: '5m', notify: ['slack'] });
  });
});

describe('what cannot be converted is reported', () => {
  it('keeps a complex bool filter as query: and rewrites the legacy not filter', () => {
    const r = convert('pos-refund-fraud.yaml');
    expect(r.skipped).toBe(false);
    const q = r.objs[0].filter.query.bool.must;
    expect(q[0].bool.must_not).toEqual([{ terms: { 'pos.payment_method': ['CARD', 'MOBILE'] } }]);
    expect(q[1]).toEqual({ bool: { must_not: [{ term: { 'pos.store_id': 'STORE_TRAINING' } }] } });
    expect(r.objs[0].group_by).toEqual(['pos.store_id', 'pos.kiosk_id']);
    expect(r.text).toContain('changed filter: rewrote not (Elasticsearch 1.x/2.x filters, removed since) as bool queries');
    expect(r.text).toContain('dropped alert: email: StackLens notifies Jira, Slack, Mattermost and Microsoft Teams only');
    expect(r.text).toContain('dropped email, smtp_host: a setting of the email alerter, which StackLens does not have');
    expect(r.text).toContain('note filter: "stacklens rules test" cannot evaluate it offline');
  });

  it('keeps an index that is not a data stream as index: and says so; match on an unknown mapping stays a query', () => {
    const r = convert('nginx-5xx.yaml');
    expect(r.objs[0]).toMatchObject({ index: 'nginx-access-*', group_by: ['host.keyword'], filter: { query: { bool: { must: [{ range: { status: { gte: 500 } } }, { match: { request: 'checkout' } }] } } } });
    expect(r.objs[0].notify).toBeUndefined();
    expect(r.text).toContain('nginx-5xx.yaml: note index: nginx-access-* is not a StackLens data stream (logs-<dataset>-<namespace>), kept as index:');
    expect(r.text).toContain('changed use_strftime_index: index nginx-access-%Y.%m.%d → nginx-access-*');
    expect(r.text).toContain('note alert: no alerter StackLens has: the rule records incidents and notifies nobody');
    expect(r.text).toContain('dropped aggregation: alert aggregation');
  });

  it.each([
    ['chatbot-latency-spike.yaml', 'skipped type: "spike_aggregation": StackLens has no spike of a metric'],
    ['pos-stores-reporting.yaml', 'skipped metric_agg_type: "value_count": StackLens aggregates avg, min, max, sum and percentiles'],
    ['pos-ratio.yaml', 'skipped type: "elastalert_modules.ratio.RatioRule" is a custom rule type'],
  ])('skips %s', (name, line) => {
    const r = convert(name);
    expect(r.skipped).toBe(true);
    expect(r.rules).toEqual([]);
    expect(r.report).toHaveLength(1);
    expect(r.text).toContain(`${fixture(name)}: ${line}`);
  });

  it('skips a rule the conversion cannot make valid, naming the StackLens key', () => {
    const r = inline('name: flat\ntype: spike\nindex: logs-pos-*\ntimeframe: {minutes: 5}\nspike_height: 1\nspike_type: up\n');
    expect(r.skipped).toBe(true);
    expect(r.text).toContain('inline.yaml: skipped (converted rule): does not pass StackLens rule validation: flat.yml:');
    expect(r.text).toContain('spike_height: must be greater than 1');
    expect(inline('name: x\ntype: frequency\nnum_events: 3\ntimeframe: {minutes: 1}\n').text).toContain('skipped index: missing: StackLens needs the data stream');
    expect(inline('name: x\ntype: frequency\nindex: logs-pos-*\nnum_events: 3\n').text).toContain('skipped timeframe: missing (ElastAlert2 requires it for this type)');
    expect(inline('name: x\ntype: any\nindex: logs-pos-*\nfilter: [{eql: "any where true"}]\n').text).toContain('skipped filter[0]: an EQL query');
  });

  it('ms_teams → notify teams; its webhook is the collector\'s integration, not the rule\'s', () => {
    const r = inline('name: x\ntype: any\nindex: logs-pos-*\nalert: [ms_teams, email]\nms_teams_webhook_url: "https://example.invalid/hook"\n');
    expect(r.objs[0].notify).toEqual(['teams']);
    expect(r.text).toContain('integrations.teams');
    expect(r.text).toContain('alert: email');
    expect(r.text).not.toContain('example.invalid');
  });

  it('reports keys nobody knows', () => {
    const r = inline('name: x\ntype: any\nindex: logs-pos-*\nfrobnicate: 3\n');
    expect(r.text).toContain('inline.yaml: dropped frobnicate: not a key StackLens (or this importer) knows for a any rule');
  });
});

describe('stacklens rules import (the CLI)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'cli', 'dist', 'cli.js'), 'rules', 'import', ...args], { encoding: 'utf8' });

  it('writes one file per rule that StackLens loads, reports the rest, exits 1 when a rule was skipped, never overwrites without --force', () => {
    const out = join(tempDir(), 'rules');
    const res = cli([FIXTURES, '--out', out]);
    expect(res.status).toBe(1);
    const report = res.stdout;
    const files = readdirSync(out).sort();
    expect(files).toEqual([
      'chatbot-new-error.yml',
      'chatbot-silent.yml',
      'chatbot-slow-replies.yml',
      'nginx-5xx.yml',
      'pos-blocked-payment-methods.yml',
      'pos-error-spike.yml',
      'pos-invalid-store-config.yml',
      'pos-kiosks-failing.yml',
      'pos-large-cash-refunds.yml',
      'pos-missing-price.yml',
      'pos-payment-failure-rate.yml',
      'pos-price-change.yml',
      'pos-unknown-store.yml',
    ]);
    // StackLens's own loader accepts every file written.
    const loaded = loadRules(out);
    expect(loaded.errors).toEqual([]);
    expect(loaded.rules).toHaveLength(13);
    expect([...new Set(loaded.rules.map((r) => r.spec.type as string))]).toEqual(expect.arrayContaining(['any', 'frequency', 'spike', 'flatline', 'new_term', 'change', 'cardinality', 'metric_aggregation', 'percentage_match']));
    expect(report).toContain(`${join(FIXTURES, 'pos-missing-price.yaml')}: converted to ${join(out, 'pos-missing-price.yml')} (frequency)`);
    expect(report).toContain(`${join(FIXTURES, 'chatbot-latency-spike.yaml')}: skipped type: "spike_aggregation"`);
    expect(report).toContain(`${join(FIXTURES, 'nginx-5xx.yaml')}: dropped alert: email:`);
    expect(report).toContain(`16 ElastAlert2 rule file(s): 13 StackLens rule(s) written to ${out}, 3 file(s) skipped`);

    // Again: nothing is overwritten.
    writeFileSync(join(out, 'pos-kiosks-failing.yml'), '# mine\n');
    const again = cli([fixture('pos-kiosks-failing.yaml'), '--out', out]);
    expect(again.status).toBe(1);
    expect(again.stdout).toContain(`skipped name: ${join(out, 'pos-kiosks-failing.yml')} exists and was not overwritten (--force overwrites it)`);
    expect(readFileSync(join(out, 'pos-kiosks-failing.yml'), 'utf8')).toBe('# mine\n');
    const forced = cli([fixture('pos-kiosks-failing.yaml'), '--out', out, '--force']);
    expect(forced.status).toBe(0);
    expect(loadRuleFile(join(out, 'pos-kiosks-failing.yml')).spec).toMatchObject({ type: 'cardinality', max_cardinality: 3 });
  });

  it('a converted rule fires where the ElastAlert2 rule did (stacklens rules test on simulator lines)', () => {
    const dir = tempDir();
    expect(cli([fixture('pos-missing-price.yaml'), '--out', join(dir, 'rules')]).status).toBe(0);
    const stacklens = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'cli', 'dist', 'cli.js'), ...args], { encoding: 'utf8' });
    const log = join(dir, 'pos.log');
    for (const [store, count] of [['STORE_001', '3'], ['STORE_002', '2']]) {
      expect(stacklens(['pos', '--scenario', 'missing-price', '--store', store, '--count', count, '--file', log]).status).toBe(0);
    }
    const res = stacklens(['rules', 'test', join(dir, 'rules'), log, '--json']);
    expect(res.status).toBe(0);
    // num_events 3 per query_key (pos.store_id.keyword in ElastAlert2): STORE_001 only.
    expect(JSON.parse(res.stdout).incidents.map((i: any) => [i.rule, i.group_key, i.count])).toEqual([['pos-missing-price', 'pos.store_id=STORE_001', 3]]);
  });

  it('prints the rules on stdout separated by ---, the report on stderr, exit 0 when all converted', () => {
    const res = cli([fixture('pos-error-spike.yaml'), fixture('chatbot-slow-replies.yaml'), '--severity', 'high']);
    expect(res.status).toBe(0);
    const docs = parseAllDocuments(res.stdout).map((d) => d.toJS());
    expect(docs.map((d) => [d.name, d.type, d.severity])).toEqual([
      ['pos-error-spike', 'spike', 'high'],
      ['chatbot-slow-replies', 'metric_aggregation', 'high'],
    ]);
    expect(res.stdout).toContain('\n---\n# Imported from the ElastAlert2 rule chatbot-slow-replies.yaml');
    expect(res.stderr).toContain('pos-error-spike.yaml: converted to rule pos-error-spike (spike), printed on stdout');
    expect(res.stderr).toContain('2 ElastAlert2 rule file(s): 2 StackLens rule(s) printed, 0 file(s) skipped');
  });

  it('--help documents it; bad usage exits 2', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: stacklens rules import <elastalert-rule.yaml|dir>...');
    expect(help.stdout).toContain('Exit status: 0 when every rule was converted');
    const rulesHelp = spawnSync(process.execPath, [join(REPO, 'cli', 'dist', 'cli.js'), 'rules', '--help'], { encoding: 'utf8' });
    expect(rulesHelp.stdout).toContain('stacklens rules import');
    expect(spawnSync(process.execPath, [join(REPO, 'cli', 'dist', 'cli.js'), '--help'], { encoding: 'utf8' }).stdout).toContain('rules import <files>');
    expect(cli([]).status).toBe(2);
    expect(cli([FIXTURES, '--severity', 'urgent']).status).toBe(2);
    const missing = cli([join(FIXTURES, 'nope.yaml')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('nope.yaml: cannot read');
  });
});
