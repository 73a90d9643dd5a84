import { parseArgs } from 'node:util';
import { startElasticsearch, stopElasticsearch, elasticsearchStatus, DEFAULT_ES_PORT, ES_VERSION } from '@stacklens/elasticsearch';

export const ES_HELP = `Usage: stacklens es <start|stop|status> [--port 9200]

Runs the real Elasticsearch ${ES_VERSION} in one JVM (heap ≤ 1 GiB) on 127.0.0.1,
fetched once from Maven Central, with its data under .stacklens/es/<port>/.
  start    start it and wait until it is usable (reuses one already running there)
  stop     stop the one started here
  status   say whether it runs, where, and its health
Example:
  npx stacklens es start && npx stacklens es status`;

export async function esCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
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
