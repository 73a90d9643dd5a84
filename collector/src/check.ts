// stacklens-collector --check: beyond the configuration itself, what the collector would run
// — rules_dir must exist and every rule file in it must load (each problem as file:line:
// key: reason, all of them in one pass, as `stacklens rules check` prints them) — and, with
// --connect, whether Elasticsearch answers with the credentials given.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadRules } from '@stacklens/detection';
import type { CollectorConfig } from './config.js';
import { createEsClient } from './es-client.js';

/** The rules_dir part of --check, from a collector.yaml that does not validate otherwise. */
export function checkRulesOfInvalidConfig(file: string, write: (text: string) => void): void {
  const doc = parse(readFileSync(file, 'utf8')) as { rules_dir?: unknown } | null;
  const written = typeof doc?.rules_dir === 'string' ? doc.rules_dir : './rules';
  if (written.includes('${')) return; // an environment variable: its own error is above
  checkRulesDir(isAbsolute(written) ? written : resolve(dirname(file), written), write);
}

/** rules_dir exists and every rule file in it loads; false when not. */
function checkRulesDir(dir: string, write: (text: string) => void): boolean {
  if (!existsSync(dir)) {
    write(`rules_dir: ${dir} does not exist (the collector would run no rules): create it, or point rules_dir at the rules (the repository's are in rules/)\n`);
    return false;
  }
  if (!statSync(dir).isDirectory() && !/\.ya?ml$/.test(dir)) {
    write(`rules_dir: ${dir} is neither a directory nor a .yml file\n`);
    return false;
  }
  const { rules, errors } = loadRules(dir);
  for (const e of errors) write(`${e.message.startsWith(e.file) ? e.message : `${e.file}: ${e.message}`}\n`);
  write(`rules_dir ${dir}: ${rules.length} rule(s) valid${errors.length ? `, ${errors.length} file(s) with errors` : ''}${rules.length === 0 && errors.length === 0 ? ' — no rule files (*.yml): nothing would be detected' : ''}\n`);
  return errors.length === 0;
}

export async function checkCollector(config: CollectorConfig, opts: { connect: boolean; write: (text: string) => void }): Promise<number> {
  let failed = !checkRulesDir(config.rules_dir, opts.write);
  if (opts.connect && config.elasticsearch.nodes.length > 1) {
    // Each configured node on its own: the pool would quietly skip one that never answers, and
    // would spread writes over two clusters if the list mixed them.
    const clusters = new Map<string, string[]>();
    for (const node of config.elasticsearch.nodes) {
      const one = createEsClient({ ...config.elasticsearch, nodes: [node] });
      try {
        const h = await one.cluster.health({ timeout: '5s' }, { requestTimeout: 10_000, maxRetries: 0 });
        const state = (await one.cluster.state({ metric: 'metadata', filter_path: 'metadata.cluster_uuid' }, { requestTimeout: 10_000, maxRetries: 0 })) as { metadata?: { cluster_uuid?: string } };
        const uuid = state.metadata?.cluster_uuid ?? h.cluster_name;
        clusters.set(uuid, [...(clusters.get(uuid) ?? []), node]);
        opts.write(`Elasticsearch node ${node}: reachable (cluster ${h.cluster_name}, ${h.number_of_nodes} nodes)\n`);
      } catch (err) {
        opts.write(`Elasticsearch node ${node}: not reachable (${(err as Error).message.slice(0, 200)}): requests go to the other nodes meanwhile\n`);
        failed = true;
      } finally {
        await one.close();
      }
    }
    if (clusters.size > 1) {
      opts.write(`elasticsearch.urls: these nodes belong to ${clusters.size} different clusters (${[...clusters.values()].map((nodes) => nodes.join(' + ')).join(' | ')}); list the nodes of one cluster only\n`);
      failed = true;
    }
  }
  if (opts.connect) {
    const es = createEsClient(config.elasticsearch);
    try {
      const info = await es.cluster.health({ timeout: '5s' }, { requestTimeout: 10_000, maxRetries: 0 });
      opts.write(`Elasticsearch ${config.elasticsearch.nodes.join(', ')}: reachable, cluster ${info.cluster_name} ${info.status}\n`);
      const replicas = config.elasticsearch.replicas;
      if (typeof replicas === 'number' && replicas >= info.number_of_data_nodes) {
        opts.write(`elasticsearch.replicas: ${replicas} replicas need ${replicas + 1} data nodes, this cluster has ${info.number_of_data_nodes}: StackLens indices would stay yellow (use auto, or at most ${info.number_of_data_nodes - 1})\n`);
        failed = true;
      }
      // Can the collector install its templates and write? With security on, ask; with it off, anything is allowed.
      try {
        const p: any = await es.security.hasPrivileges({ cluster: ['manage_index_templates', 'monitor'], index: [{ names: ['logs-*', 'stacklens-*'], privileges: ['create_doc', 'create_index', 'read', 'write'] }] } as never, { requestTimeout: 10_000, maxRetries: 0 });
        if (p.has_all_requested) opts.write('Elasticsearch privileges: templates installable, logs-* and stacklens-* writable\n');
        else {
          const missingCluster = Object.entries(p.cluster ?? {}).filter(([, ok]) => !ok).map(([k]) => k);
          const missingIndex = Object.entries(p.index ?? {}).flatMap(([idx, privs]) => Object.entries(privs as Record<string, boolean>).filter(([, ok]) => !ok).map(([k]) => `${k} on ${idx}`));
          opts.write(`Elasticsearch privileges missing for these credentials: ${[...missingCluster, ...missingIndex].join(', ')}\n`);
          failed = true;
        }
      } catch {
        opts.write('Elasticsearch privileges: not checked (security is off on this cluster: every request is allowed)\n');
      }
      const templates: any = await es.indices.getIndexTemplate({ name: 'stacklens*' }, { ignore: [404] });
      const installed = templates?.index_templates?.length ?? 0;
      opts.write(installed ? `index templates: ${installed} installed\n` : 'index templates: none yet (the collector installs them when it starts)\n');
    } catch (err) {
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      opts.write(`Elasticsearch ${config.elasticsearch.nodes.join(', ')}: ${status === 401 || status === 403 ? `refused the credentials (${status}): check elasticsearch.api_key / username / password` : `not reachable (${(err as Error).message.slice(0, 200)})`}\n`);
      failed = true;
    } finally {
      await es.close();
    }
  }
  return failed ? 1 : 0;
}
