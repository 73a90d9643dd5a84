// Installs StackLens' component and index templates (elasticsearch/templates/*) into
// Elasticsearch. Idempotent: a PUT replaces a template with the same content.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { REPO_ROOT } from './runner.js';

export const TEMPLATES_DIR = join(REPO_ROOT, 'elasticsearch', 'templates');

interface TemplateFile {
  name: string;
  body: Record<string, unknown>;
}

function readTemplates(kind: 'component' | 'index', dir = TEMPLATES_DIR): TemplateFile[] {
  const folder = join(dir, kind);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      try {
        return { name: f.slice(0, -'.json'.length), body: JSON.parse(readFileSync(join(folder, f), 'utf8')) };
      } catch (err) {
        throw new Error(`${join(folder, f)}: invalid JSON: ${(err as Error).message}`);
      }
    });
}

export interface InstallOptions {
  dir?: string;
  /**
   * Replica copies of every StackLens index. 'auto' (the templates' own setting,
   * auto_expand_replicas 0-1): one replica as soon as the cluster has two data nodes, none on a
   * single node. A number sets number_of_replicas exactly, for new indices and, once the
   * templates are in, for the StackLens indices that exist already.
   */
  replicas?: number | 'auto';
}

const REPLICA_KEYS = ['index.auto_expand_replicas', 'auto_expand_replicas', 'index.number_of_replicas', 'number_of_replicas'];

/** The template with its replica settings replaced by a fixed number of replicas. */
function withReplicas(body: Record<string, unknown>, replicas: number): Record<string, unknown> {
  const template = (body.template ?? {}) as { settings?: Record<string, unknown> };
  const settings = template.settings;
  if (!settings || !REPLICA_KEYS.some((k) => k in settings)) return body;
  const rest = Object.fromEntries(Object.entries(settings).filter(([k]) => !REPLICA_KEYS.includes(k)));
  return { ...body, template: { ...template, settings: { ...rest, 'index.auto_expand_replicas': 'false', 'index.number_of_replicas': replicas } } };
}

/** PUT every component template, then every index template (they reference the components). */
export async function installTemplates(client: Client, opts: InstallOptions = {}): Promise<string[]> {
  const dir = opts.dir ?? TEMPLATES_DIR;
  const replicas = opts.replicas ?? 'auto';
  const shape = (body: Record<string, unknown>) => (replicas === 'auto' ? body : withReplicas(body, replicas));
  const installed: string[] = [];
  for (const t of readTemplates('component', dir)) {
    await client.cluster.putComponentTemplate({ name: t.name, ...(shape(t.body) as object) } as never);
    installed.push(`component/${t.name}`);
  }
  const patterns: string[] = [];
  for (const t of readTemplates('index', dir)) {
    await client.indices.putIndexTemplate({ name: t.name, ...(shape(t.body) as object) } as never);
    installed.push(`index/${t.name}`);
    patterns.push(...((t.body.index_patterns as string[] | undefined) ?? []));
  }
  if (replicas !== 'auto' && patterns.length) {
    // Indices made before the setting changed keep theirs otherwise (a data stream's next backing index would follow).
    await client.indices.putSettings({
      index: patterns.join(','),
      allow_no_indices: true,
      ignore_unavailable: true, // a StackLens index not made yet (stacklens-incidents before the first incident)
      expand_wildcards: 'all',
      settings: { 'index.auto_expand_replicas': 'false', 'index.number_of_replicas': replicas },
    });
  }
  return installed;
}

/** True when every StackLens index template exists (used by the collector's /readyz). */
export async function templatesInstalled(client: Client, dir = TEMPLATES_DIR): Promise<boolean> {
  for (const t of readTemplates('index', dir)) {
    if (!(await client.indices.existsIndexTemplate({ name: t.name }))) return false;
  }
  return true;
}
