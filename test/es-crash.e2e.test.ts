// Elasticsearch killed (SIGKILL) and restarted during a steady write load: every line
// exactly once. Uses an Elasticsearch of its own, so the shared one is not disturbed.
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { startElasticsearch, stopElasticsearch, REPO_ROOT } from '@stacklens/elasticsearch';
import { posTrafficLine, rng } from '@stacklens/demo';
import { count, esClient, expectExactlyOnce, LogWriter, sleep, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle, acknowledged } from './helpers.js';

const PORT = 9270;
const running: (AgentHandle | CollectorHandle)[] = [];


afterAll(async () => {
  for (const p of running) await p.stop('SIGKILL');
  await stopElasticsearch({ port: PORT });
  rmSync(join(REPO_ROOT, '.stacklens', 'es', String(PORT)), { recursive: true, force: true });
});

describe('Elasticsearch crash', () => {
  it('loses and doubles nothing when Elasticsearch is SIGKILLed and restarted under load', async () => {
    const esInstance = await startElasticsearch({ port: PORT, heapMb: 512 });
    const es = esClient(esInstance.url);
    const collector = await startCollector(esInstance.url);
    running.push(collector);
    const ns = uniqueNamespace();
    const dir = tempDir();
    mkdirSync(join(dir, 'logs'));
    const agent = startAgent(
      dir,
      `id: escrash-${ns}\nstate_dir: ./state\ncollector:\n  url: ${collector.url}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  flush_interval: 100ms\ninputs:\n  - paths: ["./logs/*.log"]\n    format: pos\n    dataset: pos\n    namespace: ${ns}\n`,
      { TEST_AGENT_TOKEN: collector.token },
    );
    running.push(agent);
    const index = `logs-pos-${ns}`;
    const pos = new LogWriter(join(dir, 'logs', 'pos.log'));
    const rand = rng(3);
    let writing = true;
    const writer = (async () => {
      while (writing) {
        pos.append(Array.from({ length: 200 }, () => posTrafficLine(rand, 0.05, new Date())));
        await sleep(100); // pacing the writes
      }
    })();
    await waitFor('the first documents', async () => (await count(es, index)) > 1000, 60_000, 200);
    const pid = Number(readFileSync(join(esInstance.dir, 'es.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    // Fixed waits are right here: they are the length of the outage and of the load after it.
    await sleep(3000); // the agent keeps writing; the collector answers 503; the agent retries
    await startElasticsearch({ port: PORT, heapMb: 512 });
    await sleep(3000); // the load goes on against the restarted Elasticsearch
    writing = false;
    await writer;
    const total = pos.lines.length;
    await waitFor(`${total} documents`, async () => (await count(es, index)) >= total, 120_000, 500);
    await waitFor('the log acknowledged to its end', async () => acknowledged(dir, [pos.path]), 60_000, 500);
    await expectExactlyOnce(es, index, [pos]);
  });
});
