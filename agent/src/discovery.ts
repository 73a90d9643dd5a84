// What file discovery matches, shared by the agent's scans and `--check` (check.ts) so both
// see the same files: the glob options, and an input's `exclude` globs as a predicate (a glob
// without a slash matches the file name, one with a slash the whole path — config.ts has
// already made those absolute). Files it excludes are never read.
import { basename } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';

/** The files an input's globs match now (absolute paths; dot files included; no directory expansion). */
export function matchFiles(globs: string[]): Promise<string[]> {
  return glob(globs, { absolute: true, onlyFiles: true, dot: true, expandDirectories: false });
}

export function excludeMatcher(globs: string[]): (path: string) => boolean {
  const byName = globs.filter((g) => !g.includes('/'));
  const byPath = globs.filter((g) => g.includes('/'));
  const name = byName.length > 0 ? picomatch(byName, { dot: true }) : undefined;
  const full = byPath.length > 0 ? picomatch(byPath, { dot: true }) : undefined;
  return (path) => (name?.(basename(path)) ?? false) || (full?.(path) ?? false);
}
