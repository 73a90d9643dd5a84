// Programs a few end-to-end tests need besides Node, Java and Maven: Debian's `prometheus`
// package (prometheus, promtool). Outside CI a missing one skips the tests that need it, and
// says so; in CI (CI=true, which .ci/run sets, and where .ci/run installs them) it fails
// them — a CI run cannot pass by skipping.
import { spawnSync } from 'node:child_process';

export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/**
 * Undefined when `program` runs; else why the tests that need it are skipped (printed once).
 * In CI it throws, failing the test file.
 */
export function missingProgram(program: string, needs: string): string | undefined {
  const res = spawnSync(program, ['--version'], { stdio: 'ignore' });
  if (!res.error) return undefined;
  const why = `${program} is not installed (Debian: apt-get install prometheus): ${needs}`;
  if (IN_CI) throw new Error(`${why} — CI must run these tests (.ci/run installs it)`);
  console.warn(`SKIPPED: ${why} are skipped (CI=true makes this a failure)`);
  return why;
}
