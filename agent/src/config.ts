// agent.yaml: what to tail and where to ship it. Validated at start-up; errors name file, line and key.
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { REDACT_DEFAULTS } from '@stacklens/common';
import { readFileSync } from 'node:fs';
import { ConfigError, loadYamlConfig, byteSize, durationMs, httpUrl, DATASET_PATTERN, NAMESPACE_PATTERN } from '@stacklens/common';
import { PARSERS, headerPatternProblem, type Format } from './parsers/index.js';

/** The formats agent.yaml accepts: the registered parsers (parsers/index.ts). */
export const FORMATS = Object.keys(PARSERS) as [Format, ...Format[]];
export type { Format };

export const ENCODINGS = ['utf-8', 'latin1', 'windows-1252', 'utf-16le', 'utf-16be'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** Compressed files are binary: never read as text unless `decompress: true` (then .gz is read through gunzip). */
export const COMPRESSED_EXCLUDES = ['*.gz', '*.zip', '*.bz2', '*.xz'];

const timezone = () =>
  z.string().refine(
    (tz) => {
      if (tz === 'local') return true;
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a time zone (use UTC, local, or an IANA name such as Europe/Berlin)' },
  );


const regex = () =>
  z.string().refine(
    (p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a valid regular expression' },
  );

const inputSchema = z.strictObject({
  paths: z.array(z.string().min(1)).min(1, 'needs at least one glob'),
  format: z.enum(FORMATS, { message: `must be one of ${FORMATS.join(', ')}` }),
  dataset: z
    .string()
    .regex(DATASET_PATTERN, 'must be lower-case letters, digits, "_" or "." (it names the data stream logs-<dataset>-<namespace>)')
    .refine((d) => d !== 'chat' && d !== 'stacklens' && !d.startsWith('stacklens.'), { message: 'is reserved: the collector writes chat and stacklens.* itself' }),
  namespace: z.string().regex(NAMESPACE_PATTERN, 'must be lower-case letters, digits or "_"').default('default'),
  service: z.string().optional(),
  // Globs of files never read; without a slash a glob matches the file name. Default: compressed files.
  exclude: z.array(z.string().min(1)).optional(),
  encoding: z.enum(ENCODINGS, { message: `must be one of ${ENCODINGS.join(', ')}` }).default('utf-8'),
  // Read gzip-compressed rotated files (*.gz) through gunzip, with offsets in the uncompressed text.
  decompress: z.boolean().default(false),
  // Symbolic links matching the globs are skipped unless this is set (Filebeat's `symlinks`):
  // a link can point the agent at a file nobody meant to ship.
  follow_symlinks: z.boolean().default(false),
  // The zone of timestamps written without one (e.g. 2024-11-16 10:30:00).
  timezone: timezone().default('UTC'),
  // Format plain: the header of each line read into fields (parsers/header-pattern.ts) — a
  // shipped pattern's name, auto (chosen per file from its first lines), generic, or a grok pattern.
  pattern: z.string().min(1, 'must not be empty').optional(),
  max_line_bytes: byteSize().default(1024 * 1024),
  close_inactive: durationMs().default(5 * 60_000),
  redact: z
    .strictObject({
      card_numbers: z.boolean().default(REDACT_DEFAULTS.card_numbers),
      bearer_tokens: z.boolean().default(REDACT_DEFAULTS.bearer_tokens),
      api_keys: z.boolean().default(REDACT_DEFAULTS.api_keys),
      passwords: z.boolean().default(REDACT_DEFAULTS.passwords),
      emails: z.boolean().default(REDACT_DEFAULTS.emails),
    })
    .default(REDACT_DEFAULTS),
  multiline: z
    .strictObject({
      // A line matching start_pattern starts an event; with continuation_pattern alone, a line
      // matching it joins the previous event; with both, a line joins only if it matches
      // continuation_pattern and not start_pattern (anything else stands alone).
      start_pattern: regex().optional(),
      continuation_pattern: regex().optional(),
      max_lines: z.number().int().min(1).default(500),
      max_bytes: byteSize().default(1024 * 1024),
      timeout: durationMs().default(1000),
    })
    .refine((m) => m.start_pattern || m.continuation_pattern, { message: 'needs start_pattern, continuation_pattern or both' })
    .optional(),
}).superRefine((input, ctx) => {
  if (input.pattern === undefined) return;
  if (input.format !== 'plain') {
    ctx.addIssue({
      code: 'custom',
      path: ['pattern'],
      message: `applies to format plain only (format ${input.format} lines are ${input.format === 'docker' || input.format === 'cri' ? 'read from a container envelope, whose time is used' : 'parsed into fields already'}); remove it or use format: plain`,
    });
    return;
  }
  const problem = headerPatternProblem(input.pattern);
  if (problem) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem });
});

const schema = z.strictObject({
  id: z.string().min(1).max(200).default(hostname()),
  state_dir: z.string().default('./.stacklens/agent'),
  collector: z
    .strictObject({
      url: httpUrl().optional(),
      urls: z.array(httpUrl()).min(1).optional(),
      token: z.string().min(1, 'must not be empty'),
      timeout: durationMs().default(30_000),
      tls: z
        .strictObject({
          ca: z.string().min(1).optional(),
          cert: z.string().min(1).optional(),
          key: z.string().min(1).optional(),
        })
        .refine((t) => !t.cert === !t.key, { message: 'cert and key go together (the client certificate for mutual TLS)' })
        .optional(),
    })
    .refine((c) => c.url || c.urls, { message: 'needs url (or urls)' }),
  batch: z
    .strictObject({
      max_events: z.number().int().min(1).max(100_000).default(2048),
      max_bytes: byteSize().default(1024 * 1024),
      flush_interval: durationMs().default(250),
      max_in_flight: z.number().int().min(1).max(64).default(4),
    })
    .default({ max_events: 2048, max_bytes: 1024 * 1024, flush_interval: 250, max_in_flight: 4 }),
  scan_interval: durationMs().default(1000),
  spool: z.strictObject({ max_bytes: byteSize() }).optional(),
  metrics: z
    .strictObject({ listen: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464') })
    .optional(),
  registry: z.strictObject({ clean_after: durationMs().default(7 * 86_400_000) }).default({ clean_after: 7 * 86_400_000 }),
  inputs: z.array(inputSchema).min(1, 'needs at least one input'),
});

export type AgentConfigFile = z.infer<typeof schema>;
export type InputConfig = z.infer<typeof inputSchema>;

export interface TlsFiles {
  /** PEM contents, read at start-up. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface AgentConfig extends Omit<AgentConfigFile, 'collector'> {
  collector: { urls: string[]; token: string; timeout: number; tls?: TlsFiles };
}

/** Load agent.yaml. Relative paths (state_dir, input globs) are relative to the config file's folder. */
export function loadAgentConfig(file: string, env: Record<string, string | undefined> = process.env): AgentConfig {
  const raw = loadYamlConfig(file, schema, env);
  return normalizeAgentConfig(raw, dirname(resolve(file)));
}

export function normalizeAgentConfig(raw: AgentConfigFile, baseDir: string): AgentConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...raw,
    state_dir: abs(raw.state_dir),
    collector: {
      urls: [...(raw.collector.urls ?? []), ...(raw.collector.url ? [raw.collector.url] : [])].map((u) => u.replace(/\/+$/, '')),
      token: raw.collector.token,
      timeout: raw.collector.timeout,
      tls: raw.collector.tls && readTls(raw.collector.tls, abs),
    },
    inputs: raw.inputs.map((i) => ({ ...i, paths: i.paths.map(abs), exclude: (i.exclude ?? defaultExcludes(i.decompress)).map((g) => (g.includes('/') ? abs(g) : g)) })),
  };
}

export const agentConfigSchema = schema;

function defaultExcludes(decompress: boolean): string[] {
  return decompress ? COMPRESSED_EXCLUDES.filter((g) => g !== '*.gz') : COMPRESSED_EXCLUDES;
}

function readTls(tls: { ca?: string; cert?: string; key?: string }, abs: (p: string) => string): TlsFiles {
  const read = (key: 'ca' | 'cert' | 'key') => {
    const file = tls[key];
    if (!file) return undefined;
    try {
      return readFileSync(abs(file), 'utf8');
    } catch (err) {
      throw new ConfigError(`collector.tls.${key}: cannot read ${abs(file)}: ${(err as Error).message}`);
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}
