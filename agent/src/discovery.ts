// What file discovery matches, shared by the agent's scans and `--check` (check.ts) so both
// see the same files: the glob options, and an input's `exclude` globs as a predicate (a glob
// without a slash matches the file name, one with a slash the whole path — config.ts has
// already made those absolute). Files it excludes are never read. And why a glob matches
// nothing (its folder is missing or closed to the agent's user), said by both.
import { access, constants, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
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

/** Why a glob that matches nothing cannot match anything yet: its fixed folder is missing or closed. */
export async function folderProblem(pattern: string): Promise<string | undefined> {
  const scan = picomatch.scan(pattern);
  const folder = scan.isGlob ? scan.base : dirname(pattern);
  if (!folder) return undefined;
  try {
    if (!(await stat(folder)).isDirectory()) return `${folder} is not a folder`;
    await access(folder, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `folder ${folder} does not exist`;
    if (code === 'EACCES') return `folder ${folder} cannot be read by this user`;
    return `folder ${folder}: ${(err as Error).message}`;
  }
}
