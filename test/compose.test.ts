// docker-compose.yml cannot be started here (no Docker engine), so this checks what can be
// checked: it parses, every file it mounts or builds from exists, images and ports agree,
// Prometheus and Grafana reach services that exist on the ports they listen on, the
// collector's and agent's configs inside are valid, and the images run as non-root.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '@stacklens/elasticsearch';
import { loadCollectorConfig } from '@stacklens/collector';
import { loadAgentConfig } from '@stacklens/agent';

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'));
const services: Record<string, any> = compose.services;
const hostPath = (volume: string) => volume.split(':')[0];
const isBind = (volume: string) => /^\.{1,2}\//.test(volume);
const env = { STACKLENS_AGENT_TOKEN: 'x'.repeat(32) };

describe('docker-compose.yml', () => {
  it('has the full stack, each service with what it needs', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['elasticsearch', 'kibana', 'kibana-setup', 'grafana', 'prometheus', 'collector', 'agent', 'pos-simulator', 'chatbot-simulator']));
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

  it('publishes each host port once; Elasticsearch and Kibana are the same 8.x version', () => {
    const published = Object.values(services).flatMap((s: any) => (s.ports ?? []).map((p: string) => p.split(':')[0]));
    expect(new Set(published).size).toBe(published.length);
    const version = (image: string) => image.split(':')[1];
    expect(version(services.elasticsearch.image)).toMatch(/^8\./);
    expect(version(services.kibana.image)).toBe(version(services.elasticsearch.image));
    expect(services.kibana.environment).toContain('ELASTICSEARCH_HOSTS=http://elasticsearch:9200');
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
    const datasources = parse(readFileSync(join(REPO_ROOT, 'grafana/provisioning/datasources/stacklens.yaml'), 'utf8')).datasources;
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
    expect(services['kibana-setup'].command.join(' ')).toContain('/api/saved_objects/_import');
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
});
