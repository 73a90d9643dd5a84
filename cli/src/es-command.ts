import { parseArgs } from 'node:util';
import { clusterNodeAt, instanceDir, startElasticsearch, stopElasticsearch, elasticsearchStatus, startCluster, stopCluster, clusterStatus, recordedClusterSize, DEFAULT_ES_PORT, ES_VERSION, CLUSTER_NODE_HEAP_MB, type EsCluster } from '@stacklens/elasticsearch';

export const ES_HELP = `Usage: stacklens es <start|stop|status> [--port 9200] [--nodes N] [--json]

Runs the real Elasticsearch ${ES_VERSION} on 127.0.0.1, fetched once from Maven Central:
one node (one JVM, heap ≤ 1 GiB, data under .stacklens/es/<port>/), or with --nodes N a
cluster of N nodes on this machine (N JVMs, heap ≤ ${CLUSTER_NODE_HEAP_MB} MiB each, HTTP ports
port … port+N-1, transport ports port+100 …, data under .stacklens/es/<port>/node-<i>/).
  start    start it and wait until it is usable (a cluster: green with all N nodes);
           reuses what already runs — run it again to restart a cluster node that died
  stop     stop the one started here (every node of a cluster; the data stays)
  status   say whether it runs, where, and its health; a cluster lists each node, its
           pid and whether it answers (exit 0 while any node answers, 3 when none does)
Options:
  --port N    the (first) HTTP port (default ${DEFAULT_ES_PORT})
  --nodes N   1–9: 1 is the single node, 2–9 a cluster of N nodes; stop/status find a
              cluster by its port (its first node's)
  --json      status as JSON (for scripts)
Examples:
  npx stacklens es start && npx stacklens es status
  npx stacklens es start --nodes 3 --port 9200   # then elasticsearch.urls in collector.yaml
  npx stacklens es status --port 9200 --json`;

export async function esCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { port: { type: 'string' }, nodes: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`stacklens es: ${(err as Error).message}\n(stacklens es --help shows the options)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const action = positionals[0];
  if (values.help || !action) {
    process.stdout.write(`${ES_HELP}\n`);
    return values.help ? 0 : 2;
  }
  const port = values.port ? Number(values.port) : DEFAULT_ES_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`stacklens es: --port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  const member = clusterNodeAt(port);
  if (member) {
    process.stderr.write(`stacklens es: port ${port} is ${member.name} of the cluster set up on port ${member.base}: use --port ${member.base} (start brings back any node that is down)\n`);
    return 2;
  }
  const recorded = recordedClusterSize({ port });
  const nodes = values.nodes !== undefined ? Number(values.nodes) : recorded ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
    process.stderr.write(`stacklens es: --nodes must be a whole number from 1 to 9 (1: the single node), got "${values.nodes}"\n`);
    return 2;
  }
  if (recorded !== undefined && nodes !== recorded) {
    process.stderr.write(`stacklens es: a ${recorded}-node cluster was set up on port ${port}: use --nodes ${recorded} (or leave --nodes out), or remove ${instanceDir({}, port)} to set up something else there\n`);
    return 2;
  }
  // Node i uses HTTP port+i and transport port+100+i.
  if (port + 100 + nodes - 1 > 65535) {
    process.stderr.write(`stacklens es: --port ${port} leaves no room for ${nodes === 1 ? 'the transport port' : `${nodes} nodes`} (transport ports are the HTTP ports + 100): use a port up to ${65535 - 100 - nodes + 1}\n`);
    return 2;
  }
  if (nodes > 1 || recorded !== undefined) return clusterCommand(action, port, nodes, Boolean(values.json));
  switch (action) {
    case 'start': {
      const es = await startElasticsearch({ port });
      if (es.reused && !es.owned) {
        process.stdout.write(`An Elasticsearch not started by stacklens already answers on ${es.url}: left alone (stacklens es stop will not stop it). Use --port for one of stacklens's own.\n`);
        return 0;
      }
      process.stdout.write(`${es.reused ? 'Elasticsearch already running' : `Elasticsearch ${ES_VERSION} running`} on ${es.url} (pid ${es.pid}, data in ${es.dir}); stop it with: stacklens es stop${port === DEFAULT_ES_PORT ? '' : ` --port ${port}`}\n`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopElasticsearch({ port });
      if (stopped) {
        process.stdout.write(`Elasticsearch on port ${port} stopped\n`);
        return 0;
      }
      const other = await elasticsearchStatus({ port });
      process.stdout.write(other.running ? `the Elasticsearch on port ${port} was not started by stacklens: stop it the way it was started\n` : `no Elasticsearch started by stacklens is running on port ${port}\n`);
      return 0;
    }
    case 'status': {
      const s = await elasticsearchStatus({ port });
      if (values.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      if (values.json) return s.running ? 0 : 3;
      if (!s.running) {
        process.stdout.write(`Elasticsearch is not running on ${s.url}\n`);
        return 3;
      }
      process.stdout.write(
        s.owned
          ? `Elasticsearch ${s.version ?? '?'} running on ${s.url}: health ${s.health}, pid ${s.pid}, data in ${s.dir} (started by stacklens)\n`
          : `Elasticsearch ${s.version ?? '?'} running on ${s.url}: health ${s.health}; not started by stacklens (its data is not under .stacklens)\n`,
      );
      return 0;
    }
    default:
      process.stderr.write(`stacklens es: unknown action "${action}"\n\n${ES_HELP}\n`);
      return 2;
  }
}

function describeCluster(c: EsCluster): string {
  const lines = [`Elasticsearch cluster ${c.name}: ${c.health ? `health ${c.health.status}, ${c.health.number_of_nodes} of ${c.nodes.length} nodes, ${c.health.unassigned_shards} unassigned shards` : 'no node answers'}`];
  for (const node of c.nodes) lines.push(`  ${node.name}  ${node.url}  ${node.running ? 'up' : 'DOWN'}${node.pid ? `  pid ${node.pid}` : ''}  data in ${node.dir}`);
  return lines.join('\n');
}

async function clusterCommand(action: string, port: number, nodes: number, json: boolean): Promise<number> {
  const portFlag = port === DEFAULT_ES_PORT ? '' : ` --port ${port}`;
  switch (action) {
    case 'start': {
      const c = await startCluster({ port, nodes });
      if (json) process.stdout.write(`${JSON.stringify(c)}\n`);
      else {
        process.stdout.write(`${describeCluster(c)}\n${c.started.length ? `started ${c.started.join(', ')}` : 'all nodes were running already'}; stop it with: stacklens es stop${portFlag}\n`);
        process.stdout.write(`collector.yaml:\n  elasticsearch:\n    urls: [${c.urls.join(', ')}]\n`);
      }
      return 0;
    }
    case 'stop': {
      const stopped = await stopCluster({ port });
      process.stdout.write(stopped.length ? `stopped ${stopped.join(', ')} (data kept; stacklens es start${portFlag} brings the cluster back)\n` : `no node of the cluster on port ${port} was running\n`);
      return 0;
    }
    case 'status': {
      const c = (await clusterStatus({ port }))!;
      const up = c.nodes.some((node) => node.running);
      process.stdout.write(json ? `${JSON.stringify(c)}\n` : `${describeCluster(c)}\n`);
      return up ? 0 : 3;
    }
    default:
      process.stderr.write(`stacklens es: unknown action "${action}"\n\n${ES_HELP}\n`);
      return 2;
  }
}
