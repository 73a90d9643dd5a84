// docker-compose.yml cannot be started here (no Docker engine), so this checks what can be
// checked: it parses, every file it mounts or builds from exists, images and ports agree,
// Prometheus and Grafana reach services that exist on the ports they listen on, the
// collector's and agent's configs inside are valid, and the images run as non-root. And
// what issue #14 asked: Elasticsearch runs with security on, every port is published on the
// host's loopback only, every secret is required (no fallback), the one-shot `setup` service
// (deploy/es-setup.sh, run here against stand-in Elasticsearch and Kibana servers) gives
// the collector and Grafana least-privilege users, and whatever uses them waits for it.
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { loadCollectorConfig } from '@stacklens/collector';
import { loadAgentConfig } from '@stacklens/agent';
import { IN_CI } from './programs.js';

const composeText = readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true });
const services: Record<string, any> = compose.services;
const hostPath = (volume: string) => volume.split(':')[0];
const isBind = (volume: string) => /^\.{1,2}\//.test(volume);
const env = { STACKLENS_AGENT_TOKEN: 'x'.repeat(32), STACKLENS_ES_PASSWORD: 'y'.repeat(24) };
const datasources: any[] = parse(readFileSync(join(REPO_ROOT, 'grafana/provisioning/datasources/stacklens.yaml'), 'utf8')).datasources;
const setupScript = readFileSync(join(REPO_ROOT, 'deploy/es-setup.sh'), 'utf8');
const ROLES_DIR = join(REPO_ROOT, 'deploy/es-roles');
const roles: Record<string, any> = Object.fromEntries(
  readdirSync(ROLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [basename(f, '.json'), JSON.parse(readFileSync(join(ROLES_DIR, f), 'utf8'))]),
);
/** The users deploy/es-setup.sh creates: `user NAME PASSWORD_VARIABLE ROLE`. */
const setupUsers = [...setupScript.matchAll(/^\s*user (\S+) (\S+) (\S+)\s*$/gm)].map(([, name, passwordVar, role]) => ({ name, passwordVar, role }));
const setupUser = (name: string) => setupUsers.find((u) => u.name === name)!;

/** A service's environment as name → value, from either compose syntax. */
function environment(s: any): Record<string, string> {
  if (Array.isArray(s.environment)) return Object.fromEntries(s.environment.map((e: string) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return { ...(s.environment ?? {}) };
}

/** A published port, short ("[IP:]HOST:CONTAINER[/proto]") or long syntax. */
function published(p: string | Record<string, any>): { hostIp?: string; hostPort: string; target: string } {
  if (typeof p === 'object') return { hostIp: p.host_ip, hostPort: String(p.published), target: String(p.target) };
  const parts = p.replace(/\/(tcp|udp)$/, '').split(':');
  if (parts.length === 3) return { hostIp: parts[0], hostPort: parts[1], target: parts[2] };
  if (parts.length === 2) return { hostPort: parts[0], target: parts[1] };
  return { hostPort: '', target: parts[0] }; // "9200": a random host port on every interface
}

const SECRET_VAR = /PASSWORD|TOKEN|SECRET|API_KEY|_KEY$/;
/** Every ${VAR…} reference in a text: the variable and what follows its name (":?msg", ":-x", ""). */
const references = (text: string) => [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)].map(([, name, rest]) => ({ name, rest }));
/** Does Elasticsearch index pattern `grant` (with *) cover every name `target` (with *) can match? */
const covers = (grant: string, target: string) => new RegExp(`^${grant.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\-]/g, '\\$&')).join('.*')}$`).test(target.replaceAll('*', 'x-y'));

describe('docker-compose.yml', () => {
  it('has the full stack, each service with what it needs', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['elasticsearch', 'setup', 'kibana', 'kibana-setup', 'grafana', 'prometheus', 'collector', 'agent', 'pos-simulator', 'chatbot-simulator']));
    for (const [name, s] of Object.entries(services)) {
      expect(s.image || s.build, `${name}: image or build`).toBeTruthy();
      for (const dep of Object.keys(s.depends_on ?? {})) expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
      for (const v of s.volumes ?? []) {
        if (isBind(v)) expect(existsSync(join(REPO_ROOT, hostPath(v))), `${name}: ${hostPath(v)}`).toBe(true);
        else expect(compose.volumes, `${name}: named volume ${hostPath(v)}`).toHaveProperty(hostPath(v));
      }
      if (s.build) {
        expect(existsSync(join(REPO_ROOT, s.build.context ?? s.build))).toBe(true);
        expect(existsSync(join(REPO_ROOT, s.build.context ?? '.', s.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`).toBe(true);
      }
    }
    for (const name of ['elasticsearch', 'kibana', 'grafana', 'prometheus', 'collector', 'agent']) expect(services[name].healthcheck, `${name}: healthcheck`).toBeDefined();
  });

  it('publishes each host port once, on 127.0.0.1 only; Elasticsearch and Kibana are the same 8.x version', () => {
    const ports = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p: any) => ({ name, ...published(p) })));
    expect(ports.length).toBeGreaterThanOrEqual(6);
    for (const p of ports) {
      expect(p.hostIp, `${p.name}: ${p.hostPort}:${p.target} must name the host IP 127.0.0.1`).toBe('127.0.0.1');
      expect(p.hostPort, `${p.name}: host port`).toMatch(/^\d+$/);
    }
    expect(composeText).not.toMatch(/0\.0\.0\.0:\d+:\d+|"\[?::\]?:\d+:/);
    const hostPorts = ports.map((p) => p.hostPort);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    const version = (image: string) => image.split(':')[1];
    expect(version(services.elasticsearch.image)).toMatch(/^8\./);
    expect(version(services.kibana.image)).toBe(version(services.elasticsearch.image));
    expect(services.kibana.environment).toContain('ELASTICSEARCH_HOSTS=http://elasticsearch:9200');
  });

  it('runs Elasticsearch with security on, and everything that talks to it signs in', () => {
    const es = environment(services.elasticsearch);
    expect(es['xpack.security.enabled']).toBe('true');
    expect(es.ELASTIC_PASSWORD).toMatch(/^\$\{ELASTIC_PASSWORD:\?.+\}$/);
    // TLS off on HTTP is the allowed single-node dev set-up, and the file says so.
    if (es['xpack.security.http.ssl.enabled'] === 'false') expect(composeText).toMatch(/single-node dev/);
    expect(services.elasticsearch.healthcheck.test.join(' ')).toContain('elastic:$$ELASTIC_PASSWORD');
    const kibana = environment(services.kibana);
    expect(kibana.ELASTICSEARCH_USERNAME).toBe('kibana_system');
    expect(kibana.ELASTICSEARCH_PASSWORD).toMatch(/^\$\{KIBANA_SYSTEM_PASSWORD:\?.+\}$/);
    const collector = loadCollectorConfig(join(REPO_ROOT, 'deploy/collector.yaml'), env);
    expect(collector.elasticsearch.username).toBe(setupUser('stacklens_collector').name);
    expect(collector.elasticsearch.password).toBe(env.STACKLENS_ES_PASSWORD);
    expect(readFileSync(join(REPO_ROOT, 'deploy/collector.yaml'), 'utf8')).toContain(`password: \${${setupUser('stacklens_collector').passwordVar}}`);
    expect(environment(services.collector)[setupUser('stacklens_collector').passwordVar]).toMatch(/^\$\{STACKLENS_ES_PASSWORD:\?.+\}$/);
    for (const d of datasources.filter((d) => d.type === 'elasticsearch')) {
      expect(d.basicAuth, d.name).toBe(true);
      expect(d.basicAuthUser, d.name).toBe(setupUser('stacklens_grafana').name);
      expect(d.secureJsonData?.basicAuthPassword, d.name).toBe(`\${${setupUser('stacklens_grafana').passwordVar}}`);
    }
    expect(environment(services.grafana)[setupUser('stacklens_grafana').passwordVar]).toMatch(/^\$\{GRAFANA_ES_PASSWORD:\?.+\}$/);
  });

  it('requires every secret (${VAR:?message}): no change-me, no default, no empty fallback', () => {
    expect(composeText).not.toMatch(/change-?me/i);
    const secrets = references(composeText).filter((r) => SECRET_VAR.test(r.name));
    expect(new Set(secrets.map((r) => r.name))).toEqual(new Set(['STACKLENS_AGENT_TOKEN', 'ELASTIC_PASSWORD', 'KIBANA_SYSTEM_PASSWORD', 'STACKLENS_ES_PASSWORD', 'GRAFANA_ES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']));
    for (const r of secrets) expect(r.rest, `\${${r.name}${r.rest}}`).toMatch(/^:\?\S/);
    // A secret a service needs is handed to it from the host's environment, never written in.
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(s))) if (SECRET_VAR.test(key)) expect(value, `${name}: ${key}`).toMatch(/^\$\{[A-Z_]+:\?\S/);
    }
    for (const file of ['deploy/collector.yaml', 'deploy/agent.yaml', 'grafana/provisioning/datasources/stacklens.yaml']) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/change-?me/i);
      for (const r of references(text).filter((r) => SECRET_VAR.test(r.name))) expect(r.rest, `${file}: \${${r.name}${r.rest}}`).toBe('');
    }
  });

  it('the one-shot setup service runs deploy/es-setup.sh; Kibana, Grafana and the collector wait for it to complete', () => {
    const setup = services.setup;
    expect(setup.image).toBe(services.elasticsearch.image);
    expect(setup.entrypoint).toEqual(['bash', '/setup/es-setup.sh', 'elasticsearch']);
    expect(setup.volumes).toEqual(expect.arrayContaining(['./deploy/es-setup.sh:/setup/es-setup.sh:ro', './deploy/es-roles:/setup/es-roles:ro']));
    expect(setup.depends_on.elasticsearch.condition).toBe('service_healthy');
    expect(setup.restart ?? 'no').toBe('no');
    const setupEnv = environment(setup);
    for (const v of ['ELASTIC_PASSWORD', 'KIBANA_SYSTEM_PASSWORD', ...setupUsers.map((u) => u.passwordVar)]) expect(setupEnv[v], `setup: ${v}`).toMatch(new RegExp(`^\\$\\{${v}:\\?`));
    for (const name of ['kibana', 'grafana', 'collector']) expect(services[name].depends_on.setup, `${name} depends on setup`).toEqual({ condition: 'service_completed_successfully' });
    expect(services.agent.depends_on.collector.condition).toBe('service_healthy');
    expect(services['kibana-setup'].entrypoint).toEqual(['bash', '/setup/es-setup.sh', 'kibana']);
    expect(services['kibana-setup'].volumes).toEqual(expect.arrayContaining(['./deploy/es-setup.sh:/setup/es-setup.sh:ro', './kibana/stacklens.ndjson:/setup/stacklens.ndjson:ro']));
    expect(environment(services['kibana-setup']).KIBANA_OBJECTS).toBe('/setup/stacklens.ndjson');
    expect(spawnSync('bash', ['-n', join(REPO_ROOT, 'deploy/es-setup.sh')]).status).toBe(0);
  });

  it("setup's roles are least privilege, and cover what the collector and Grafana use", () => {
    expect(setupUsers.map((u) => [u.name, u.role])).toEqual([
      ['stacklens_collector', 'stacklens_collector'],
      ['stacklens_grafana', 'stacklens_grafana_reader'],
    ]);
    for (const u of setupUsers) expect(roles[u.role], `role file deploy/es-roles/${u.role}.json`).toBeDefined();
    const allIndexPrivileges = (r: any) => r.indices.flatMap((i: any) => i.privileges);
    const allNames = (r: any) => r.indices.flatMap((i: any) => i.names);
    for (const [name, r] of Object.entries(roles)) {
      expect(Object.keys(r).sort(), name).toEqual(expect.arrayContaining(['cluster', 'indices']));
      expect(r.run_as ?? [], `${name}: run_as`).toEqual([]);
      expect(r.applications ?? [], `${name}: applications`).toEqual([]);
      expect(r.cluster, `${name}: cluster`).not.toContain('all');
      expect(allIndexPrivileges(r), `${name}: index privileges`).not.toContain('all');
      for (const n of allNames(r)) expect(n, `${name}: index pattern`).not.toMatch(/^(\*|\.|-\*)/);
    }
    // Grafana: read-only.
    const grafana = roles.stacklens_grafana_reader;
    expect(grafana.cluster).toEqual(['monitor']);
    expect(new Set(allIndexPrivileges(grafana))).toEqual(new Set(['read', 'view_index_metadata']));
    for (const d of datasources.filter((d) => d.type === 'elasticsearch')) {
      const index = d.jsonData.index as string;
      expect(allNames(grafana).some((g: string) => covers(g, index)), `Grafana's role covers ${index}`).toBe(true);
    }
    // The collector: its templates, its data streams and indices; no security, settings, snapshots.
    const collector = roles.stacklens_collector;
    expect(new Set(collector.cluster)).toEqual(new Set(['monitor', 'manage_index_templates']));
    for (const i of collector.indices) {
      expect(i.privileges, `${i.names}`).not.toContain('delete_index');
      if (i.privileges.includes('manage')) expect(i.names, 'manage only on the outbox (PUT _mapping of older outbox indices)').toEqual(['stacklens-outbox']);
    }
    const templatePatterns = readdirSync(join(REPO_ROOT, 'elasticsearch/templates/index')).flatMap((f) => JSON.parse(readFileSync(join(REPO_ROOT, 'elasticsearch/templates/index', f), 'utf8')).index_patterns as string[]);
    expect(templatePatterns.length).toBeGreaterThan(5);
    for (const pattern of templatePatterns) {
      const grants = collector.indices.filter((i: any) => i.names.some((n: string) => covers(n, pattern))).flatMap((i: any) => i.privileges);
      for (const p of ['write', 'read', 'auto_configure', 'view_index_metadata', 'maintenance']) expect(grants, `collector on ${pattern}: ${p}`).toContain(p);
    }
  });

  it('Prometheus scrapes, and Grafana reads, services that exist on the ports they listen on', () => {
    const listens: Record<string, string[]> = {
      elasticsearch: ['9200'],
      prometheus: ['9090'],
      collector: [loadCollectorConfig(join(REPO_ROOT, 'deploy/collector.yaml'), env).listen.port.toString()],
      agent: [String(loadAgentConfig(join(REPO_ROOT, 'deploy/agent.yaml'), env).metrics?.listen.split(':').pop())],
    };
    const prom = parse(readFileSync(join(REPO_ROOT, 'prometheus/prometheus.yml'), 'utf8'));
    const targets = prom.scrape_configs.flatMap((j: any) => j.static_configs.flatMap((c: any) => c.targets));
    expect(targets).toEqual(['collector:8080', 'agent:9464']);
    for (const t of targets) {
      const [host, port] = t.split(':');
      expect(listens[host], t).toContain(port);
    }
    for (const rules of prom.rule_files) expect(existsSync(join(REPO_ROOT, 'prometheus', rules))).toBe(true);
    for (const d of datasources) {
      const url = new URL(d.url);
      expect(services[url.hostname], d.url).toBeDefined();
      expect(listens[url.hostname], d.url).toContain(url.port);
    }
    // Grafana finds the provisioning and the dashboards where the provider looks.
    const provider = parse(readFileSync(join(REPO_ROOT, 'grafana/provisioning/dashboards/stacklens.yaml'), 'utf8')).providers[0];
    expect(services.grafana.volumes).toEqual(expect.arrayContaining(['./grafana/provisioning:/etc/grafana/provisioning:ro', `./dashboards:${provider.options.path}:ro`]));
    expect(services.prometheus.volumes).toContain('./prometheus:/etc/prometheus:ro');
  });

  it('the collector and agent configs mounted into the containers are valid and match the mounts', () => {
    const collector = loadCollectorConfig(join(REPO_ROOT, 'deploy/collector.yaml'), env);
    expect(collector.elasticsearch.nodes).toEqual(['http://elasticsearch:9200']);
    expect(collector.listen.host).toBe('0.0.0.0');
    expect(services.collector.volumes).toContain(`./rules:${collector.rules_dir}:ro`);
    const agent = loadAgentConfig(join(REPO_ROOT, 'deploy/agent.yaml'), env);
    expect(agent.collector.urls).toEqual([`http://collector:${collector.listen.port}`]);
    expect(agent.state_dir).toBe('/var/lib/stacklens-agent');
    expect(services.agent.volumes).toEqual(expect.arrayContaining(['agent-state:/var/lib/stacklens-agent', 'demo-logs:/logs:ro']));
    for (const input of agent.inputs) for (const p of input.paths) expect(p.startsWith('/logs/'), p).toBe(true);
  });

  it('the Dockerfile is multi-stage: each image the compose file builds is a stage that runs as a non-root user', () => {
    const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const stages = Object.fromEntries(text.split(/^FROM /m).slice(1).map((s) => [/ AS (\S+)/.exec(s.split('\n')[0])?.[1] ?? '', s]));
    expect(stages.runtime).toMatch(/^COPY --from=build/m);
    const targets = Object.values(services).filter((s: any) => s.build).map((s: any) => s.build.target);
    expect(new Set(targets)).toEqual(new Set(['collector', 'agent', 'cli']));
    for (const t of targets) {
      expect(stages[t], `stage ${t}`).toMatch(/^runtime\b/);
      const user = /^USER (\S+)/m.exec(stages[t])?.[1];
      expect(user, `stage ${t}: USER`).toBeDefined();
      expect(['root', '0']).not.toContain(user);
    }
    // Every workspace in package.json is copied into the build stage.
    const workspaces: string[] = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).workspaces;
    for (const w of workspaces) expect(stages.build, `COPY ${w}`).toContain(`COPY ${w} ${w}`);
  });

  // Compose v2 (`docker compose`), or Debian's docker-compose (v1.29, which .ci/run installs):
  // both validate the file and interpolate variables without a Docker engine.
  const composeCmd: string[] | undefined = [['docker', 'compose'], ['docker-compose']].find(
    ([cmd, ...sub]) => spawnSync(cmd, [...sub, 'version'], { encoding: 'utf8' }).status === 0,
  );
  if (!composeCmd && IN_CI) throw new Error('neither `docker compose` nor `docker-compose` runs — CI must check docker-compose.yml (.ci/run installs docker-compose)');
  it.skipIf(!composeCmd)('docker compose config accepts the file with every secret set, and refuses it without', () => {
    const [cmd, ...sub] = composeCmd!;
    const secrets = Object.fromEntries(['STACKLENS_AGENT_TOKEN', 'ELASTIC_PASSWORD', 'KIBANA_SYSTEM_PASSWORD', 'STACKLENS_ES_PASSWORD', 'GRAFANA_ES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD'].map((v) => [v, `test-${v.toLowerCase()}`]));
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in secrets)));
    const ok = spawnSync(cmd, [...sub, '-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', env: { ...base, ...secrets } });
    expect(ok.status, ok.stderr).toBe(0);
    const missing = spawnSync(cmd, [...sub, '-f', join(REPO_ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', env: base });
    expect(missing.status, missing.stderr).not.toBe(0);
    expect(missing.stderr).toMatch(/STACKLENS_AGENT_TOKEN|ELASTIC_PASSWORD|PASSWORD/);
  });
});

// deploy/es-setup.sh against stand-ins for Elasticsearch and Kibana that record each request.
const curl = spawnSync('curl', ['--version']).status === 0;
describe.skipIf(!curl)('deploy/es-setup.sh', () => {
  interface Seen { method: string; url: string; auth: string; body: string; headers: IncomingMessage['headers'] }
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function standIn(answer: (r: Seen) => [number, unknown]): Promise<{ url: string; seen: Seen[] }> {
    const seen: Seen[] = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const r = { method: req.method!, url: req.url!, auth: Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString(), body, headers: req.headers };
        seen.push(r);
        const [status, json] = answer(r);
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
  }

  function runSetup(mode: string, vars: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn('bash', [join(REPO_ROOT, 'deploy/es-setup.sh'), mode], { env: { PATH: process.env.PATH!, WAIT_SECONDS: '20', ...vars } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
  }

  // Passwords with the characters that break naive quoting (JSON, curl's config file, the shell).
  const passwords = {
    ELASTIC_PASSWORD: `el"as\\tic $(id) 'q'`,
    KIBANA_SYSTEM_PASSWORD: `kib-${Date.now()}"\\`,
    STACKLENS_ES_PASSWORD: `col lector "${Math.random()}"`,
    GRAFANA_ES_PASSWORD: `graf\`ana\`-${Math.random()}`,
  };

  it('sets kibana_system, puts each role file and creates the two users, as elastic', async () => {
    const es = await standIn((r) => [200, r.url.startsWith('/_cluster/health') ? { status: 'yellow' } : { created: true }]);
    const { code, output } = await runSetup('elasticsearch', { ES_URL: es.url, ...passwords });
    expect(code, output).toBe(0);
    for (const r of es.seen) expect(r.auth, `${r.method} ${r.url}`).toBe(`elastic:${passwords.ELASTIC_PASSWORD}`);
    const calls = es.seen.map((r) => `${r.method} ${r.url.split('?')[0]}`);
    expect(calls).toEqual([
      'GET /_cluster/health',
      'POST /_security/user/kibana_system/_password',
      ...Object.keys(roles).sort().map((role) => `PUT /_security/role/${role}`),
      'PUT /_security/user/stacklens_collector',
      'PUT /_security/user/stacklens_grafana',
    ]);
    const body = (call: string) => JSON.parse(es.seen[calls.indexOf(call)].body);
    expect(body('POST /_security/user/kibana_system/_password')).toEqual({ password: passwords.KIBANA_SYSTEM_PASSWORD });
    for (const role of Object.keys(roles)) expect(body(`PUT /_security/role/${role}`)).toEqual(roles[role]);
    expect(body('PUT /_security/user/stacklens_collector')).toMatchObject({ password: passwords.STACKLENS_ES_PASSWORD, roles: ['stacklens_collector'] });
    expect(body('PUT /_security/user/stacklens_grafana')).toMatchObject({ password: passwords.GRAFANA_ES_PASSWORD, roles: ['stacklens_grafana_reader'] });
    for (const p of Object.values(passwords)) expect(output).not.toContain(p);
  });

  it('fails, naming the cause, on a wrong elastic password, an error answer or a missing variable', async () => {
    const refusing = await standIn(() => [401, { error: 'unable to authenticate user [elastic]' }]);
    const wrong = await runSetup('elasticsearch', { ES_URL: refusing.url, ...passwords });
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toContain('ELASTIC_PASSWORD differs');
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const failing = await standIn((r) => (r.url.startsWith('/_security/role/') ? [400, { error: 'bad role' }] : [200, {}]));
    const bad = await runSetup('elasticsearch', { ES_URL: failing.url, ...passwords });
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/PUT \/_security\/role\/\S+: HTTP 400/);
    expect(failing.seen.some((r) => r.url.startsWith('/_security/user/stacklens_'))).toBe(false);
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    const { GRAFANA_ES_PASSWORD: _, ...withoutGrafana } = passwords;
    const ok = await standIn(() => [200, {}]);
    const missing = await runSetup('elasticsearch', { ES_URL: ok.url, ...withoutGrafana });
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain('GRAFANA_ES_PASSWORD is not set');
  });

  it('kibana: imports the saved objects once Kibana answers', async () => {
    const kibana = await standIn((r) => [200, r.url.startsWith('/api/saved_objects/_import') ? { success: true, successCount: 9 } : { status: { overall: { level: 'available' } } }]);
    const objects = join(REPO_ROOT, 'kibana/stacklens.ndjson');
    const { code, output } = await runSetup('kibana', { KIBANA_URL: kibana.url, KIBANA_OBJECTS: objects, ELASTIC_PASSWORD: passwords.ELASTIC_PASSWORD });
    expect(code, output).toBe(0);
    const imp = kibana.seen.find((r) => r.url === '/api/saved_objects/_import?overwrite=true')!;
    expect(imp.method).toBe('POST');
    expect(imp.auth).toBe(`elastic:${passwords.ELASTIC_PASSWORD}`);
    expect(imp.headers['kbn-xsrf']).toBe('true');
    expect(imp.body).toContain(readFileSync(objects, 'utf8').split('\n')[0]);
    expect(output).not.toContain(passwords.ELASTIC_PASSWORD);
  });
});
