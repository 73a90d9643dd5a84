// The agent's lifecycle through its CLI: SIGHUP reload, SIGTERM flush, collector failover.
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { count, esClient, expectMessagesOnce, freePort, sleep, startAgent, tempDir, uniqueNamespace, waitFor, useSharedCollector, type AgentHandle, acknowledged } from './helpers.js';

const es = esClient(inject('esUrl'));
const shared = useSharedCollector(inject('esUrl'));
const agents = shared.agents;

const input = (glob: string, ns: string) => `  - paths: ["${glob}"]\n    format: plain\n    dataset: app\n    namespace: ${ns}\n`;
const config = (ns: string, inputs: string, collectorUrls = `url: ${shared.collector.url}`, batch = 'flush_interval: 100ms') =>
  `id: sig-${ns}\nstate_dir: ./state\ncollector:\n  ${collectorUrls}\n  token: \${TEST_AGENT_TOKEN}\nbatch:\n  ${batch}\ninputs:\n${inputs}`;
const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const append = (path: string, ls: string[]) => appendFileSync(path, ls.map((l) => `${l}\n`).join(''));


describe('agent signals and failover', () => {
  it('SIGHUP reloads the config: a new input starts, a removed one stops; an invalid file is refused and the agent goes on', async () => {
    const dir = tempDir();
    const ns = uniqueNamespace();
    const index = `logs-app-${ns}`;
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const agent = startAgent(dir, config(ns, input('./a/*.log', ns)), { TEST_AGENT_TOKEN: shared.collector.token, STACKLENS_LOG_LEVEL: 'info' });
    agents.push(agent);
    append(join(dir, 'a', 'x.log'), lines('a1', 50));
    append(join(dir, 'b', 'y.log'), lines('b1', 50));
    await waitFor('a1 lines', async () => (await count(es, index)) >= 50, 20_000);
    // A new file under a/, created after b/y.log: once it is shipped, the agent has scanned
    // since b/y.log existed and shipped all it would (a marker, not a fixed wait).
    append(join(dir, 'a', 'z.log'), ['a-marker']);
    await waitFor('a/ acknowledged to its end', async () => acknowledged(dir, [join(dir, 'a', 'x.log'), join(dir, 'a', 'z.log')]), 20_000);
    expect(await count(es, index)).toBe(51); // b is not configured yet

    writeFileSync(agent.configPath, config(ns, input('./b/*.log', ns)));
    agent.proc.child.kill('SIGHUP');
    await waitFor('b1 lines', async () => (await count(es, index)) >= 101, 20_000);
    append(join(dir, 'a', 'x.log'), lines('a2', 20)); // input a is gone: not shipped
    append(join(dir, 'b', 'y.log'), lines('b2', 20));
    await waitFor('b2 lines', async () => (await count(es, index)) >= 121, 20_000);
    // A key read only at start (spool here; an outside tester's reload changed it in silence) is
    // named in the log, and so is an input whose folder does not exist (it shipped nothing, silently).
    writeFileSync(agent.configPath, config(ns, input('./b/*.log', ns) + input('./missing/*.log', ns)).replace('inputs:\n', 'spool:\n  max_bytes: 1MiB\ninputs:\n'));
    agent.proc.child.kill('SIGHUP');
    await waitFor('the restart-only key named', async () => /"key":"spool".*changing this key needs a restart/.test(agent.proc.output), 10_000);
    await waitFor('the empty input named', async () => /input matches no file yet/.test(agent.proc.output) && /missing does not exist/.test(agent.proc.output), 10_000);

    writeFileSync(agent.configPath, 'inputs: [not valid\n');
    agent.proc.child.kill('SIGHUP');
    await waitFor('the refusal in the log', async () => agent.proc.output.includes('new configuration is invalid; keeping the current one'), 10_000);
    append(join(dir, 'b', 'y.log'), lines('b3', 10));
    await waitFor('b3 lines', async () => (await count(es, index)) >= 131, 20_000);
    // b/y.log acknowledged to its end: everything the agent read is indexed; a2 (written before
    // b2 and b3) had its chance to be shipped and must not have been.
    await waitFor('b/ acknowledged to its end', async () => acknowledged(dir, [join(dir, 'b', 'y.log')]), 20_000);
    await expectMessagesOnce(es, index, [...lines('a1', 50), 'a-marker', ...lines('b1', 50), ...lines('b2', 20), ...lines('b3', 10)]);
    expect(agent.proc.child.exitCode).toBeNull();
  });

  it('SIGTERM ships what was read, commits the offsets and exits 0; a restart sends nothing twice', async () => {
    const dir = tempDir();
    const ns = uniqueNamespace();
    const index = `logs-app-${ns}`;
    mkdirSync(join(dir, 'logs'));
    const path = join(dir, 'logs', 'app.log');
    // A long flush interval: without SIGTERM's flush these lines would still sit in a batch.
    const port = await freePort();
    const yaml = config(ns, input('./logs/*.log', ns), `url: ${shared.collector.url}`, 'flush_interval: 30s').replace('inputs:\n', `metrics:\n  listen: 127.0.0.1:${port}\ninputs:\n`);
    /** Lines the running agent has read (so SIGTERM is sent only once they are in a batch). */
    const linesRead = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/^stacklens_agent_lines_read_total\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const agent = startAgent(dir, yaml, { TEST_AGENT_TOKEN: shared.collector.token });
    agents.push(agent);
    append(path, lines('t', 300));
    await waitFor('the agent to read 300 lines', async () => (await linesRead()) === 300, 20_000);
    expect(await count(es, index)).toBe(0);
    await agent.stop('SIGTERM');
    expect(agent.proc.child.exitCode).toBe(0);
    expect(await count(es, index)).toBe(300);
    const registry = JSON.parse(readFileSync(join(dir, 'state', 'registry.json'), 'utf8'));
    expect(Object.values(registry.files).map((f: any) => f.offset)).toEqual([statSync(path).size]);

    agent.restart();
    append(path, lines('u', 10));
    await waitFor('the restarted agent to read the 10 new lines', async () => (await linesRead()) === 10, 20_000);
    await agent.stop('SIGTERM');
    await expectMessagesOnce(es, index, [...lines('t', 300), ...lines('u', 10)]);
  });

  it('fails over to the next collector URL when one is down', async () => {
    const dir = tempDir();
    const ns = uniqueNamespace();
    const index = `logs-app-${ns}`;
    mkdirSync(join(dir, 'logs'));
    const dead = `http://127.0.0.1:${await freePort()}`;
    const agent = startAgent(dir, config(ns, input('./logs/*.log', ns), `urls: [${dead}, ${shared.collector.url}]`), { TEST_AGENT_TOKEN: shared.collector.token });
    agents.push(agent);
    for (let i = 0; i < 10; i++) {
      append(join(dir, 'logs', 'app.log'), lines(`f${i}`, 100));
      await sleep(150); // pacing the writes (a scenario, not a wait for the agent)
    }
    await waitFor('1,000 documents', async () => (await count(es, index)) >= 1000, 30_000);
    await waitFor('the file acknowledged to its end', async () => acknowledged(dir, [join(dir, 'logs', 'app.log')]), 20_000);
    await expectMessagesOnce(es, index, Array.from({ length: 10 }, (_, i) => lines(`f${i}`, 100)).flat());
  });
});
