// `GET /` and `HEAD /` of the embedded Elasticsearch answer like a stock 8.14.1: the
// integ-test-zip distribution has no rest-root module (405 there), so our stacklens-root plugin
// (elasticsearch/root-plugin, installed by ensureDistribution) serves them. Clients that ask
// `GET /` first then work — checked with a real one: ElastAlert2's elastalert-create-index.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { esClient, tempDir, uniqueNamespace } from './helpers.js';
import { IN_CI } from './programs.js';

const esUrl = inject('esUrl');
const es = esClient(esUrl);
const NO_PLUGIN =
  `${esUrl} answers 405 to / : it runs without the stacklens-root plugin (started before the plugin was installed?). ` +
  'Restart it (npx stacklens es stop --port PORT); its next start installs the plugin.';

/** What the venv holds (the same file .ci/run installs ahead of the suite). */
const REQUIREMENTS = join(REPO_ROOT, 'test', 'fixtures', 'elastalert-requirements.txt');
const VENV = join(process.env.STACKLENS_HOME ?? join(REPO_ROOT, '.stacklens'), 'venv-elastalert');
const VENV_DONE = join(VENV, 'stacklens-installed.txt');

function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** A venv with ElastAlert2, kept under .stacklens/ between runs (the first install takes about a minute). */
async function elastalertVenv(): Promise<string | undefined> {
  const bin = join(VENV, 'bin', 'elastalert-create-index');
  if (existsSync(bin) && existsSync(VENV_DONE) && readFileSync(VENV_DONE, 'utf8') === readFileSync(REQUIREMENTS, 'utf8')) return bin;
  const python = process.env.PYTHON ?? 'python3';
  const probe = await run(python, ['-m', 'venv', '--help'], { timeoutMs: 30_000 }).catch((err: Error) => ({ code: -1, output: err.message }));
  if (probe.code !== 0) {
    const why = `${python} with venv is not available (Debian: apt-get install python3-venv): ${probe.output.trim().split('\n').pop()}`;
    if (IN_CI) throw new Error(`${why} — CI must run the ElastAlert2 test`);
    console.warn(`SKIPPED: ${why}; the ElastAlert2 check is skipped (CI=true makes this a failure)`);
    return undefined;
  }
  rmSync(VENV, { recursive: true, force: true });
  const started = Date.now();
  const venv = await run(python, ['-m', 'venv', VENV], { timeoutMs: 120_000 });
  if (venv.code !== 0) throw new Error(`${python} -m venv ${VENV} failed (exit ${venv.code}):\n${venv.output}`);
  const pip = await run(join(VENV, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', '-r', REQUIREMENTS], { timeoutMs: 540_000 });
  if (pip.code !== 0) throw new Error(`pip install -r ${REQUIREMENTS} failed (exit ${pip.code}):\n${pip.output.slice(-3000)}`);
  copyFileSync(REQUIREMENTS, VENV_DONE);
  console.log(`installed ${REQUIREMENTS} into ${VENV} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return bin;
}

describe('GET / and HEAD / (stacklens-root plugin)', () => {
  it('GET / answers like a stock Elasticsearch 8.14.1', async () => {
    const res = await fetch(`${esUrl}/`);
    expect(res.status, res.status === 405 ? NO_PLUGIN : undefined).toBe(200);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as Record<string, any>;
    expect(Object.keys(body).sort()).toEqual(['cluster_name', 'cluster_uuid', 'name', 'tagline', 'version']);
    expect(body.tagline).toBe('You Know, for Search');
    expect(Object.keys(body.version).sort()).toEqual(
      ['build_date', 'build_flavor', 'build_hash', 'build_snapshot', 'build_type', 'lucene_version', 'minimum_index_compatibility_version', 'minimum_wire_compatibility_version', 'number'].sort(),
    );
    expect(body.version).toMatchObject({
      number: '8.14.1',
      build_flavor: 'default',
      build_hash: '93a57a1a76f556d8aee6a90d1a95b06187501310',
      build_snapshot: false,
      lucene_version: '9.10.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    });
    expect(body.version.build_date).toMatch(/^2024-06-10T/);

    // The node, cluster name and uuid are this cluster's own.
    const health = await es.cluster.health();
    expect(body.cluster_name).toBe(health.cluster_name);
    const state = await es.cluster.state({ metric: 'metadata', filter_path: 'metadata.cluster_uuid' });
    expect(body.cluster_uuid).toBe(state.metadata?.cluster_uuid);
    expect(body.cluster_uuid).not.toBe('_na_');
    const nodes = await es.nodes.info({ node_id: '_local', metric: 'settings' });
    expect(Object.values(nodes.nodes).map((n) => n.name)).toContain(body.name);

    // Pretty by default, like stock; ?pretty=false gives one line. And the official client's info() works.
    expect(await (await fetch(`${esUrl}/`)).text()).toContain('\n  "tagline" : "You Know, for Search"\n');
    expect(await (await fetch(`${esUrl}/?pretty=false`)).text()).not.toContain('\n');
    expect((await es.info()).version.number).toBe('8.14.1');
  });

  it('HEAD / answers 200 without a body', async () => {
    const res = await fetch(`${esUrl}/`, { method: 'HEAD' });
    expect(res.status, res.status === 405 ? NO_PLUGIN : undefined).toBe(200);
    expect(res.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(await res.text()).toBe('');
    expect(await es.ping()).toBe(true);
  });
});

describe('ElastAlert2 against the embedded Elasticsearch', () => {
  const index = `elastalert_${uniqueNamespace()}`;
  const indices = [index, `${index}_status`, `${index}_silence`, `${index}_error`, `${index}_past`];
  afterAll(async () => {
    await es.indices.delete({ index: indices, ignore_unavailable: true }).catch(() => {});
  });

  it(
    'elastalert-create-index creates its writeback indices',
    async () => {
      const bin = await elastalertVenv();
      if (!bin) return;
      // Its config file: no prompts (stdin is closed anyway, so a prompt would fail, not hang).
      const url = new URL(esUrl);
      const dir = tempDir('stacklens-elastalert-');
      const config = [
        `es_host: ${url.hostname}`,
        `es_port: ${url.port || (url.protocol === 'https:' ? 443 : 80)}`,
        `use_ssl: ${url.protocol === 'https:'}`,
        ...(url.username ? [`es_username: ${JSON.stringify(decodeURIComponent(url.username))}`, `es_password: ${JSON.stringify(decodeURIComponent(url.password))}`] : []),
        ...(url.pathname !== '/' ? [`es_url_prefix: ${JSON.stringify(url.pathname.replace(/^\/+|\/+$/g, ''))}`] : []),
        `writeback_index: ${index}`,
        '',
      ].join('\n');
      writeFileSync(join(dir, 'config.yaml'), config);
      const res = await run(bin, ['--config', join(dir, 'config.yaml')], { cwd: dir, timeoutMs: 120_000 });
      rmSync(dir, { recursive: true, force: true });
      expect(res.code, `elastalert-create-index failed:\n${res.output}`).toBe(0);
      expect(res.output).toContain(`New index ${index} created`);
      expect(res.output).toContain("Reading index mapping 'es_mappings/8/"); // it saw an 8.x server

      for (const name of indices) expect(await es.indices.exists({ index: name }), name).toBe(true);
      const mapping = await es.indices.getMapping({ index: `${index}_status` });
      expect(mapping[`${index}_status`].mappings.properties?.rule_name).toMatchObject({ type: 'keyword' });
    },
    600_000,
  );
});
