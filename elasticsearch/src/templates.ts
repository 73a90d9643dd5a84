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

/** PUT every component template, then every index template (they reference the components). */
export async function installTemplates(client: Client, dir = TEMPLATES_DIR): Promise<string[]> {
  const installed: string[] = [];
  for (const t of readTemplates('component', dir)) {
    await client.cluster.putComponentTemplate({ name: t.name, ...(t.body as object) } as never);
    installed.push(`component/${t.name}`);
  }
  for (const t of readTemplates('index', dir)) {
    await client.indices.putIndexTemplate({ name: t.name, ...(t.body as object) } as never);
    installed.push(`index/${t.name}`);
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
