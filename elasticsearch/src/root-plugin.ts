// The integ-test-zip distribution we run has no `rest-root` module, so `GET /` answers 405 —
// and ElastAlert2, Kibana, Logstash and Beats ask `GET /` first. elasticsearch/root-plugin/ is
// a tiny plugin of ours that answers `GET /` and `HEAD /` like stock Elasticsearch; this builds
// it with Maven (once per change of its sources) and installs it into a distribution.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT_PLUGIN_NAME = 'stacklens-root';

/** elasticsearch/root-plugin (this file is elasticsearch/dist/root-plugin.js). */
const PLUGIN_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'root-plugin');
const JAR = `${ROOT_PLUGIN_NAME}.jar`;
const DESCRIPTOR = 'plugin-descriptor.properties';
/** Hash of the sources a jar was built from, beside the jar in target/ and in the installed plugin. */
const STAMP = `${ROOT_PLUGIN_NAME}.sha256`;

/** sha256 of the plugin's pom, descriptor and Java sources: what "current" means. */
function sourceHash(): string {
  const files: string[] = [join(PLUGIN_SRC, 'pom.xml'), join(PLUGIN_SRC, DESCRIPTOR)];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(join(PLUGIN_SRC, 'src'));
  const h = createHash('sha256');
  for (const f of files) h.update(relative(PLUGIN_SRC, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

const readStamp = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Copy through a temporary file and rename, so a node running from this directory keeps its open jar. */
function installFile(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  copyFileSync(from, tmp);
  chmodSync(tmp, 0o644); // Elasticsearch runs as `nobody` when we are root
  renameSync(tmp, to);
}

/**
 * Make `<distDir>/plugins/stacklens-root/` hold the current build of elasticsearch/root-plugin
 * (jar + plugin-descriptor.properties), building it with `mvn package` when needed. Does nothing
 * when the installed plugin was built from the current sources. Takes effect at the node's next start.
 */
export function ensureRootPlugin(distDir: string, log: (line: string) => void): void {
  const pluginDir = join(distDir, 'plugins', ROOT_PLUGIN_NAME);
  if (!existsSync(join(PLUGIN_SRC, 'pom.xml'))) {
    if (existsSync(join(pluginDir, JAR))) return; // installed earlier; no sources to compare with
    throw new Error(`cannot install the ${ROOT_PLUGIN_NAME} Elasticsearch plugin: its sources (${PLUGIN_SRC}) are missing`);
  }
  const hash = sourceHash();
  if (readStamp(join(pluginDir, STAMP)) === hash && existsSync(join(pluginDir, JAR)) && existsSync(join(pluginDir, DESCRIPTOR))) return;

  const target = join(PLUGIN_SRC, 'target');
  if (!(readStamp(join(target, STAMP)) === hash && existsSync(join(target, JAR)))) {
    log(`Building the ${ROOT_PLUGIN_NAME} Elasticsearch plugin (answers GET /) with Maven (once) …`);
    const res = spawnSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', join(PLUGIN_SRC, 'pom.xml'), 'package'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.error) {
      throw new Error(`cannot run Maven (mvn) to build the ${ROOT_PLUGIN_NAME} Elasticsearch plugin: ${res.error.message}. Install Maven 3 and a JDK 17+.`);
    }
    if (res.status !== 0 || !existsSync(join(target, JAR))) {
      const out = `${res.stdout ?? ''}${res.stderr ?? ''}`.trimEnd().split('\n').slice(-25).join('\n');
      throw new Error(
        `Maven could not build the ${ROOT_PLUGIN_NAME} Elasticsearch plugin (mvn -B -f ${join(PLUGIN_SRC, 'pom.xml')} package, exit ${res.status ?? res.signal}):\n${out}`,
      );
    }
    writeFileSync(join(target, STAMP), `${hash}\n`);
  }

  mkdirSync(pluginDir, { recursive: true });
  chmodSync(pluginDir, 0o755);
  // The directory is ours: drop whatever an older build left there (Elasticsearch loads every jar in it).
  for (const name of readdirSync(pluginDir)) if (![JAR, DESCRIPTOR, STAMP].includes(name)) rmSync(join(pluginDir, name), { recursive: true, force: true });
  installFile(join(target, JAR), join(pluginDir, JAR));
  installFile(join(PLUGIN_SRC, DESCRIPTOR), join(pluginDir, DESCRIPTOR));
  writeFileSync(join(pluginDir, STAMP), `${hash}\n`, { mode: 0o644 });
  log(`Installed the ${ROOT_PLUGIN_NAME} plugin into ${pluginDir}`);
}
