#!/usr/bin/env node
// npm run package:agent — the agent as a package installable without this repository:
//   release/stacklens-agent-<version>-linux-x64.tar.gz (+ .sha256)
//     stacklens-agent-<version>/
//       bin/stacklens-agent          sh launcher: node + the memory flags (agent/packaging/stacklens-agent.sh)
//       lib/stacklens-agent.mjs      agent/dist/cli.js bundled by esbuild, every library inside
//       stacklens-agent.service      systemd unit             (agent/packaging/)
//       agent.yaml.example           example configuration    (agent/packaging/)
//       INSTALL.md                   installation and operation (agent/packaging/, version filled in)
//       THIRD-PARTY-LICENSES.txt     the licences of the bundled libraries
// The version is the agent's own (AGENT_VERSION, what `stacklens-agent --version` prints).
// Needs a compiled tree (`tsc -b`; the npm script runs it first). Node ≥ 20 is the package's
// only runtime requirement.
//
// Usage: node scripts/package-agent.mjs [--out DIR]      (default DIR: release/)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const REPO = resolve(import.meta.dirname, '..');
const PACKAGING = join(REPO, 'agent', 'packaging');
const ENTRY = join(REPO, 'agent', 'dist', 'cli.js');

/**
 * zod's error messages in English only: its `locales` namespace (re-exported by `z`, so no
 * bundler can leave it out) holds some fifty translations, 0.3 MB of the bundle that the agent,
 * whose configuration errors are English, never loads.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      // A module of its own (named outside node_modules: no package to credit), beside the real ones.
      return { path: 'locales', namespace: 'zod-english-only', pluginData: join(args.resolveDir, '..', 'locales') };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.pluginData,
    }));
  },
};

class PackageError extends Error {}
process.on('uncaughtException', (err) => {
  console.error(err instanceof PackageError ? `package-agent: ${err.message}` : err);
  process.exit(1);
});

const { values: args } = parseArgs({ options: { out: { type: 'string' } } });
const outDir = resolve(args.out ?? join(REPO, 'release'));

if (!existsSync(ENTRY)) fail(`${relative(REPO, ENTRY)} is missing: build first (npx tsc -b, or npm run package:agent)`);

// 1. The bundle. ESM, with `require` made from createRequire: some bundled CommonJS libraries
// (yaml, pino) require Node's built-in modules, which an ESM bundle cannot otherwise do.
const work = mkdtempSync(join(tmpdir(), 'stacklens-agent-package-'));
try {
  const bundle = join(work, 'stacklens-agent.mjs');
  const result = await build({
    entryPoints: [ENTRY],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Whitespace and syntax only: function names stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none', // the licences are in THIRD-PARTY-LICENSES.txt
    // Non-ASCII characters written as escapes: V8 keeps a script with one character beyond
    // Latin-1 as two bytes per character — the whole bundle's source, held for as long as
    // the agent runs (1.2 MB more).
    charset: 'ascii',
    plugins: [zodEnglishOnly],
    metafile: true,
    logLevel: 'warning',
    banner: {
      js: [
        '// StackLens agent - bundled with esbuild; the licences of the libraries inside are in THIRD-PARTY-LICENSES.txt.',
        "import { createRequire as __stacklensCreateRequire } from 'node:module';",
        'const require = __stacklensCreateRequire(import.meta.url);',
        "if (Number(process.versions.node.split('.')[0]) < 20) { process.stderr.write(`stacklens-agent needs Node.js 20 or later; this is ${process.version}\\n`); process.exit(1); }",
      ].join('\n'),
    },
  });
  checkBundle(readFileSync(bundle, 'utf8'));

  // 2. Its version, asked of the bundle itself: the name says what `--version` prints.
  const printed = execFileSync(process.execPath, [bundle, '--version'], { cwd: work, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' }).trim();
  const version = /^stacklens-agent (\S+)$/.exec(printed)?.[1];
  if (!version) fail(`the bundle printed "${printed}" on --version`);
  const pkgVersion = JSON.parse(readFileSync(join(REPO, 'agent', 'package.json'), 'utf8')).version;
  if (pkgVersion !== version) {
    console.warn(`warning: agent/package.json says version ${pkgVersion}, the agent (AGENT_VERSION) ${version}; the package uses ${version}`);
  }

  // 3. The tree.
  const name = `stacklens-agent-${version}`;
  const root = join(work, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'lib'));
  copyFileSync(bundle, join(root, 'lib', 'stacklens-agent.mjs'));
  const launcher = readFileSync(join(PACKAGING, 'stacklens-agent.sh'), 'utf8');
  writeFileSync(join(root, 'bin', 'stacklens-agent'), launcher);
  chmodSync(join(root, 'bin', 'stacklens-agent'), 0o755);
  copyFileSync(join(PACKAGING, 'stacklens-agent.service'), join(root, 'stacklens-agent.service'));
  copyFileSync(join(PACKAGING, 'agent.yaml.example'), join(root, 'agent.yaml.example'));
  const nodeFlags = /^NODE_FLAGS="([^"]*)"$/m.exec(launcher)?.[1];
  if (nodeFlags === undefined) fail('agent/packaging/stacklens-agent.sh has no NODE_FLAGS="…" line');
  writeFileSync(join(root, 'INSTALL.md'), readFileSync(join(PACKAGING, 'INSTALL.md'), 'utf8').replaceAll('@VERSION@', version).replaceAll('@NODE_FLAGS@', nodeFlags));
  writeFileSync(join(root, 'CONFIGURATION.md'), configurationReference());
  writeFileSync(join(root, 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(result.metafile));
  for (const f of ['LICENSE', 'LICENSE.md', 'LICENSE.txt']) if (existsSync(join(REPO, f))) copyFileSync(join(REPO, f), join(root, f));

  // 4. The tarball: owned by root, in name order, so unpacking as root makes root-owned files.
  mkdirSync(outDir, { recursive: true });
  const tarball = join(outDir, `${name}-linux-x64.tar.gz`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', work, name]);
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sha}  ${name}-linux-x64.tar.gz\n`);
  const kib = (file) => `${Math.round(statSync(file).size / 1024)} KiB`;
  console.log(`${relative(process.cwd(), tarball) || tarball}: ${kib(tarball)} (bundle ${kib(bundle)}, version ${version}, Node flags "${nodeFlags}")`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** The bundle must stand alone: no require of anything but Node's own modules, no path into this tree. */
function checkBundle(text) {
  // One character past Latin-1 would make V8 hold the whole source at two bytes a character.
  const wide = /[^\x00-\xff]/.exec(text);
  if (wide) fail(`the bundle holds a character beyond Latin-1 (${JSON.stringify(wide[0])} at ${wide.index}): esbuild's charset should escape it`);
  // A `node:` specifier names a built-in module and nothing else.
  const builtin = (m) => m.startsWith('node:') || builtinModules.includes(m);
  const required = [...text.matchAll(/\b(?:require|__require)\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
  const imported = [...text.matchAll(/(?:^|[;}\n])\s*import\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1] ?? m[2]);
  const foreign = [...new Set([...required, ...imported])].filter((m) => !builtin(m));
  if (foreign.length > 0) fail(`the bundle still loads modules from outside: ${foreign.join(', ')}`);
  if (text.includes(REPO)) fail(`the bundle names this repository's path (${REPO})`);
}

/** Name, version, licence and licence text of every package the bundle holds code from. */
function thirdPartyLicenses(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(resolve(m[1]));
  }
  const sections = [...dirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'LICENSE-MIT'].map((f) => join(dir, f)).find((f) => existsSync(f));
      const text = file ? readFileSync(file, 'utf8').trim() : `(no licence file in the package; package.json says ${pkg.license ?? 'nothing'})`;
      return { id: `${pkg.name}@${pkg.version}`, license: pkg.license ?? '?', text };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  const header = `The StackLens agent bundle (lib/stacklens-agent.mjs) contains code from these packages:\n\n${sections.map((s) => `  ${s.id}  (${s.license})`).join('\n')}\n`;
  return `${header}\n${sections.map((s) => `${'='.repeat(78)}\n${s.id} — ${s.license}\n${'='.repeat(78)}\n${s.text}\n`).join('\n')}`;
}

function fail(message) {
  throw new PackageError(message);
}

/** Every agent.yaml key: the README's "### agent.yaml" section (one source for the repository and the package). */
function configurationReference() {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### agent.yaml\n');
  if (start < 0) fail('README.md has no "### agent.yaml" section (the package\'s CONFIGURATION.md is taken from it)');
  const end = readme.indexOf('\n### ', start + 1);
  return `# StackLens agent — configuration reference\n\n(From the project's README; installation and operation: INSTALL.md.)\n\n${readme.slice(start + '\n### agent.yaml\n'.length, end < 0 ? undefined : end).trim()}\n`;
}
