import { mkdtempSync, writeFileSync, statSync, renameSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@stacklens/common';
import { IdentityResolver, type LiveFile } from './identity-resolver.js';
import { inodeKey, type ResumePoint } from './harvester.js';
import { Registry } from './registry.js';

const log = createLogger('test', 'silent');

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  const registry = new Registry(join(dir, 'state'));
  const live: LiveFile[] = [];
  const resolver = new IdentityResolver(registry, new Map<string, ResumePoint>(), () => live, log);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { path, inode: inodeKey(statSync(path, { bigint: true })), head: Buffer.from(text.slice(0, 1024)) };
  };
  return { dir, registry, live, resolver, file };
}

const header = 'timestamp,level,message\n';

describe('IdentityResolver', () => {
  it('two live files with equal first lines: different identities, both from the start', async () => {
    const { resolver, registry, live, file } = setup();
    const a = file('a.csv', header + '2024-01-01,INFO,one\n');
    const ra = (await resolver.resolve('app/default', a.head, a.path, a.inode))!;
    registry.commit(ra.identity, a.path, 44, 0);
    live.push({ inode: a.inode, path: a.path, key: ra.identity });
    const b = file('b.csv', header + '2024-01-01,INFO,one\n');
    const rb = (await resolver.resolve('app/default', b.head, b.path, b.inode))!;
    expect(rb.identity).not.toBe(ra.identity);
    expect(rb.offset).toBe(0);
    expect(resolver.counters.collisions).toBe(1);
  });

  it('the same first bytes in another scope (input data stream) never match', async () => {
    const { resolver, registry, file } = setup();
    const a = file('a.log', header);
    const ra = (await resolver.resolve('app/default', a.head, a.path, a.inode))!;
    registry.commit(ra.identity, a.path, 24, 0);
    unlinkSync(a.path);
    const b = file('b.log', header);
    const rb = (await resolver.resolve('other/default', b.head, b.path, b.inode))!;
    expect(rb).toMatchObject({ offset: 0 });
    expect(rb.identity).not.toBe(ra.identity);
  });

  it('a rename keeps the identity and offset; a file whose original is gone resumes by content, with a warning counted', async () => {
    const { resolver, registry, file, dir } = setup();
    const a = file('app.log', 'first line of the app\nsecond\n');
    const ra = (await resolver.resolve('app/default', a.head, a.path, a.inode))!;
    registry.commit(ra.identity, a.path, 22, 0);
    renameSync(a.path, join(dir, 'app.log.1'));
    const renamed = (await resolver.resolve('app/default', a.head, join(dir, 'app.log.1'), a.inode))!;
    expect(renamed).toMatchObject({ identity: ra.identity, offset: 22 });
    expect(resolver.counters.resumedByContent).toBe(0);
    // compressed and removed: another inode, same content
    const copy = file('moved.log', 'first line of the app\nsecond\n'); // made before the original goes, so not its inode
    unlinkSync(join(dir, 'app.log.1'));
    const r = (await resolver.resolve('app/default', copy.head, copy.path, copy.inode))!;
    expect(r).toMatchObject({ identity: ra.identity, offset: 22 });
    expect(resolver.counters).toMatchObject({ resumedByContent: 1, skippedBytes: 22 });
  });

  it('a compressed copy whose original is still there is deferred, and nothing is recorded', async () => {
    const { resolver, registry, file } = setup();
    const a = file('app.log.1', 'x\n');
    const ra = (await resolver.resolve('app/default', a.head, a.path, a.inode))!;
    registry.commit(ra.identity, a.path, 2, 0);
    const gz = file('app.log.1.gz', 'x\n');
    const size = registry.size;
    expect(await resolver.resolve('app/default', gz.head, gz.path, gz.inode, true)).toBeUndefined();
    expect(registry.size).toBe(size);
  });

  it('a daily file that shares only its header with yesterday\'s (gone) file is a new file: read from 0, its own ids', async () => {
    const { resolver, registry, file } = setup();
    const a = file('report-1.csv', header);
    const ra = (await resolver.resolve('app/default', a.head, a.path, a.inode))!;
    const grown = header + '2024-01-01,INFO,' + 'x'.repeat(200) + '\n';
    writeFileSync(a.path, grown);
    resolver.observe(ra.identity, Buffer.from(grown));
    registry.commit(ra.identity, a.path, grown.length, 0);
    unlinkSync(a.path);
    for (const name of ['report-2.csv', 'report-3.csv']) {
      const b = file(name, header); // identified while it holds only the header, maybe on a reused inode
      const rb = (await resolver.resolve('app/default', b.head, b.path, b.inode))!;
      expect(rb.offset).toBe(0);
      expect(rb.identity).not.toBe(ra.identity);
      const later = header + '2024-01-02,INFO,' + name + '\n';
      writeFileSync(b.path, later);
      resolver.observe(rb.identity, Buffer.from(later));
      registry.commit(rb.identity, b.path, later.length, 0);
      unlinkSync(b.path);
    }
    expect(resolver.counters.resumedByContent).toBe(0);
  });
});
