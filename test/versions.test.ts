// Every program a package.json installs (its "bin") answers --version with its name and
// version, and exits 0 — found from the package.json files, so a new program is covered too.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../agent/src/event-builder.js';
import { REPO } from './helpers.js';

const workspaces: string[] = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).workspaces;
const programs = workspaces.flatMap((ws) => {
  const pkg = JSON.parse(readFileSync(join(REPO, ws, 'package.json'), 'utf8')) as { version: string; bin?: Record<string, string> };
  return Object.entries(pkg.bin ?? {}).map(([name, file]) => ({ name, script: join(ws, file), version: pkg.version }));
});

describe('--version', () => {
  it('finds the programs', () => {
    expect(programs.map((p) => p.name).sort()).toEqual(['stacklens', 'stacklens-agent', 'stacklens-collector']);
  });

  it.each(programs)('$name --version', ({ name, script, version }) => {
    const res = spawnSync(process.execPath, [join(REPO, script), '--version'], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    // The agent reports the version it puts in every event (agent.version); the others their package's.
    expect(res.stdout).toBe(`${name} ${name === 'stacklens-agent' ? AGENT_VERSION : version}\n`);
  });
});
