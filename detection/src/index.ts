// What other workspaces use from detection — named, not `export *` (issue #15): the collector
// composes the engine, its Elasticsearch adapters and the template catalog; the CLI loads,
// replays and checks rules; tests and benchmarks read incidents and templates.

// Rules: schema, loading, filters.
export { RULE_TYPE_NAMES, ruleSchema, type RuleSpec } from './schema.js';
export { SEVERITIES, NOTIFY_TARGETS, type Severity } from './rule-common.js';
export { buildRule, type Rule } from './rule.js';
export { loadRuleFile, loadRules } from './loader.js';
export { compileFilter, type FilterSpec } from './filter.js';
export { OFFLINE_QUERY_TYPES, OfflineRefusal, compileOfflineQuery, type DocPredicate } from './offline-query.js';
export { logMappings } from './field-mappings.js';
export { analyzeStandard } from './standard-analyzer.js';
export { RULE_TYPES, ruleTypeNamed } from './rule-types/index.js';
export type { Match } from './rule-type.js';
export { describeError } from './rule-health.js';

// Message templates.
export { messageTemplate } from './template.js';
export { TEMPLATE_FIELD } from './stats.js';
export { TemplateCatalog, templateFields, type Assigned, type StoredTemplate, type TemplateChange, type TemplateStore } from './template-catalog.js';
export { TemplateMiner, TemplateText, templateId, templateSource, type KnownTemplate, type MinerOptions, type TemplateMatch } from './templates/index.js';

// Incidents and silences.
export { INCIDENTS_INDEX, addTimeline, applyAction, incidentFingerprint, incidentId, openIncident, type ChatMessageRef, type Incident, type IncidentAction, type TimelineEntry } from './incident.js';
export type { Silence } from './silence.js';
export type { Outcome } from './evaluate.js';

// Evaluation: the engine, its sources and stores (Elasticsearch adapters), the offline replay.
export { RuleEngine, type IndexedDoc } from './engine/engine.js';
export { MemorySource } from './memory-source.js';
export { ElasticsearchSource } from './adapters/elasticsearch/es-source.js';
export { BadCursorError, ElasticsearchIncidentStore } from './adapters/elasticsearch/incident-store.js';
export { EsTemplateStore, TEMPLATES_INDEX } from './adapters/elasticsearch/template-store.js';
export { Replay } from './replay.js';
export { formatDuration } from './rule-type.js';
export { fieldValue } from './fields.js';
