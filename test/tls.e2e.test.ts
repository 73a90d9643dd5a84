// Agent → collector over TLS, with mutual TLS: certificates are made here with openssl.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { count, esClient, sleep, startAgent, startCollector, tempDir, uniqueNamespace, waitFor, type AgentHandle, type CollectorHandle } from './helpers.js';

const es = esClient(inject('esUrl'));
const certs = tempDir('stacklens-certs-');
const pem = (name: string) => join(certs, name);
let collector: CollectorHandle;
const agents: AgentHandle[] = [];

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
}

/** A CA, a certificate it signs for `cn` (with SANs), and the matching key. */
function makeCa(name: string) {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2');
}
function makeCert(name: string, ca: string, cn: string, ext: string) {
  writeFileSync(pem(`${name}.ext`), ext);
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

beforeAll(async () => {
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', 'collector', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  makeCert('client', 'ca', 'agent-1', 'extendedKeyUsage=clientAuth\n');
  makeCert('rogue', 'other-ca', 'rogue-agent', 'extendedKeyUsage=clientAuth\n');
  collector = await startCollector(inject('esUrl'), {
    extra: `tls:\n  cert: ${pem('server.crt')}\n  key: ${pem('server.key')}\n  client_ca: ${pem('ca.crt')}\n`,
    tls: { ca: readFileSync(pem('ca.crt'), 'utf8'), cert: readFileSync(pem('client.crt'), 'utf8'), key: readFileSync(pem('client.key'), 'utf8') },
  });
});
afterAll(async () => {
  await collector.stop('SIGKILL');
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop('SIGKILL');
});

function agentWith(tlsYaml: string) {
  const dir = tempDir();
  const ns = uniqueNamespace();
  mkdirSync(join(dir, 'logs'));
  const agent = startAgent(
    dir,
    `id: tls-${ns}\nstate_dir: ./state\ncollector:\n  url: ${collector.url}\n  token: \${TEST_AGENT_TOKEN}\n${tlsYaml}batch:\n  flush_interval: 100ms\ninputs:\n  - paths: ["./logs/*.log"]\n    format: plain\n    dataset: app\n    namespace: ${ns}\n`,
    { TEST_AGENT_TOKEN: collector.token },
  );
  agents.push(agent);
  appendFileSync(join(dir, 'logs', 'app.log'), Array.from({ length: 100 }, (_, i) => `tls line ${i}\n`).join(''));
  return { agent, index: `logs-app-${ns}` };
}

describe('TLS between agent and collector', () => {
  it('ships over HTTPS with mutual TLS when the agent trusts the CA and presents a client certificate', async () => {
    expect(collector.url.startsWith('https://')).toBe(true);
    const { index } = agentWith(`  tls:\n    ca: ${pem('ca.crt')}\n    cert: ${pem('client.crt')}\n    key: ${pem('client.key')}\n`);
    await waitFor('100 documents', async () => (await count(es, index)) >= 100, 20_000);
    await sleep(500);
    expect(await count(es, index)).toBe(100);
  });

  it('is refused without a client certificate, or with one from another CA: nothing indexed, the agent keeps retrying', async () => {
    const without = agentWith(`  tls:\n    ca: ${pem('ca.crt')}\n`);
    const rogue = agentWith(`  tls:\n    ca: ${pem('ca.crt')}\n    cert: ${pem('rogue.crt')}\n    key: ${pem('rogue.key')}\n`);
    await waitFor('both agents to report the failure', async () => without.agent.proc.output.includes('collector unreachable') && rogue.agent.proc.output.includes('collector unreachable'), 20_000);
    await sleep(1000);
    expect(await count(es, without.index)).toBe(0);
    expect(await count(es, rogue.index)).toBe(0);
    expect(without.agent.proc.child.exitCode).toBeNull();
  });

  it('refuses a collector whose certificate the agent does not trust', async () => {
    const { agent, index } = agentWith(`  tls:\n    ca: ${pem('other-ca.crt')}\n    cert: ${pem('client.crt')}\n    key: ${pem('client.key')}\n`);
    await waitFor('the certificate error', async () => /certificate|self[- ]signed|unable to verify/i.test(agent.proc.output), 20_000);
    await sleep(500);
    expect(await count(es, index)).toBe(0);
  });
});
