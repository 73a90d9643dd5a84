import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TemplateMiner, isConstantName, isKeyword, isMethodName, isModuleCall, templateId } from './miner.js';

describe('TemplateMiner', () => {
  it('groups messages that differ in masked values, and creates once', () => {
    const m = new TemplateMiner();
    const a = m.match('PacketResponder 1 for block blk_38865049064139660 terminating');
    const b = m.match('PacketResponder 0 for block blk_-6952295868487656571 terminating');
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.id).toBe(a.id);
    expect(b.template).toBe('PacketResponder <num> for block blk_<*> terminating');
    expect(b.changed).toBe(false);
  });

  it('generalizes words to <*> and keeps the first id', () => {
    const m = new TemplateMiner();
    const first = m.match('Invalid user admin from 10.0.0.1');
    expect(first.template).toBe('Invalid user admin from <ip>');
    expect(first.id).toBe(templateId('Invalid user admin from <ip>'));
    const second = m.match('Invalid user oracle from 10.0.0.2');
    expect(second).toEqual({ id: first.id, template: 'Invalid user <*> from <ip>', created: false, changed: true });
    const third = m.match('Invalid user test from 10.0.0.3');
    expect(third.changed).toBe(false);
    expect(third.id).toBe(first.id);
    expect(m.templates()).toEqual([{ id: first.id, template: 'Invalid user <*> from <ip>', count: 3 }]);
  });

  it('keeps different templates apart (different words, different lengths)', () => {
    const m = new TemplateMiner();
    const ids = new Set(
      [
        'instruction address: 0x00004ed8',
        'data address: 0x00000002',
        'Connection closed by 10.0.0.1',
        'Received block blk_1 of size 67108864 from /10.250.19.102',
        'Verification succeeded for blk_2',
        'session opened for user root by (uid=0)',
      ].map((x) => m.match(x).id),
    );
    expect(ids.size).toBe(6);
  });

  it('a leading variable goes to the wildcard branch and still groups', () => {
    const m = new TemplateMiner();
    const a = m.match('node-12 temperature 45 exceeds limit');
    const b = m.match('node-7 temperature 50 exceeds limit');
    expect(b.id).toBe(a.id);
    // leading words that differ (a user name) join through the same-length scan
    const c = m.match('alice logged in from host 10.0.0.1 with key rsa');
    const d = m.match('bob logged in from host 10.0.0.2 with key rsa');
    expect(d.id).toBe(c.id);
    expect(d.template).toBe('<*> logged in from host <ip> with key rsa');
    const e = m.match('carol logged in from host 10.0.0.3 with key rsa');
    expect(e.id).toBe(c.id);
    expect(e.changed).toBe(false);
  });

  it('a word kept for stableAfter messages is a constant', () => {
    const m = new TemplateMiner({ stableAfter: 5 });
    let id = '';
    for (let i = 0; i < 5; i++) id = m.match(`Session: ${i} initialized by client WindowsUpdateAgent.`).id;
    const other = m.match('Session: 99 initialized by client SPP.');
    expect(other.id).not.toBe(id);
    expect(other.created).toBe(true);
    // before it settles, a differing word generalizes
    const m2 = new TemplateMiner({ stableAfter: 5 });
    const x = m2.match('Session: 1 initialized by client WindowsUpdateAgent.');
    expect(m2.match('Session: 2 initialized by client SPP.').id).toBe(x.id);
  });

  it('lists of any length share a template', () => {
    const m = new TemplateMiner();
    const a = m.match('BLOCK* ask 10.250.18.114:50010 to delete  blk_-5140072410813878235');
    const b = m.match('BLOCK* ask 10.250.17.177:50010 to delete  blk_-8570780307468499817 blk_-9122557405432088649 blk_7079754042611867581');
    expect(b.id).toBe(a.id);
  });

  it('only the first line and the first maxChars characters are mined', () => {
    const m = new TemplateMiner({ maxChars: 40 });
    const a = m.match('java.lang.NullPointerException: boom\n\tat com.example.Foo.bar(Foo.java:10)');
    const b = m.match('java.lang.NullPointerException: boom\n\tat com.example.Baz.qux(Baz.java:99)\n\tat x');
    expect(b.id).toBe(a.id);
    expect(a.template).toBe('java.lang.NullPointerException: boom');
    const long1 = m.match('prefix that is long enough ' + 'x'.repeat(5000));
    const long2 = m.match('prefix that is long enough ' + 'y'.repeat(5000));
    expect(long2.id).toBe(long1.id);
  });

  it('peek matches without learning or creating', () => {
    const m = new TemplateMiner();
    expect(m.peek('Invalid user admin from 10.0.0.1')).toBeUndefined();
    const a = m.match('Invalid user admin from 10.0.0.1');
    expect(m.peek('Invalid user admin from 10.9.9.9')).toEqual({ id: a.id, template: a.template, created: false, changed: false });
    const p = m.peek('Invalid user root from 10.0.0.1');
    expect(p).toEqual({ id: a.id, template: 'Invalid user admin from <ip>', created: false, changed: false });
    expect(m.templates()).toEqual([{ id: a.id, template: 'Invalid user admin from <ip>', count: 1 }]);
    expect(m.peek('something else entirely')).toBeUndefined();
    expect(m.size).toBe(1);
  });

  it('load restores templates with their ids and counts', () => {
    const m = new TemplateMiner();
    m.load([
      { id: 'stored-1', template: 'Invalid user <*> from <ip>', count: 7 },
      { id: 'stored-2', template: 'PacketResponder <num> for block blk_<*> terminating' },
    ]);
    const a = m.match('Invalid user guest from 192.168.0.1');
    expect(a).toEqual({ id: 'stored-1', template: 'Invalid user <*> from <ip>', created: false, changed: false });
    expect(m.match('PacketResponder 2 for block blk_-1 terminating').id).toBe('stored-2');
    expect(m.templates().find((t) => t.id === 'stored-1')?.count).toBe(8);
    // round trip: a fresh miner loaded from templates() gives the same ids
    const first = new TemplateMiner();
    const msgs = ['Deleting block blk_1 file /a/b/c', 'Deleting block blk_2 file /a/b/d', 'Verification succeeded for blk_3', 'user alice logged out'];
    const ids = msgs.map((x) => first.match(x).id);
    const second = new TemplateMiner();
    second.load(first.templates());
    expect(msgs.map((x) => second.peek(x)?.id)).toEqual(ids);
    expect(msgs.map((x) => second.match(x).id)).toEqual(ids);
  });

  it('custom idFor, and no two clusters share an id', () => {
    const m = new TemplateMiner({ idFor: () => 'same' });
    const a = m.match('first message here');
    const b = m.match('a totally different line with 3 words');
    expect(a.id).toBe('same');
    expect(b.id).not.toBe('same');
    expect(new Set(m.templates().map((t) => t.id)).size).toBe(2);
  });

  it('templateId: 16 hex of sha1, namespaced', () => {
    expect(templateId('x')).toMatch(/^[0-9a-f]{16}$/);
    expect(templateId('x')).toBe(templateId('x'));
    expect(templateId('x', 'ns')).not.toBe(templateId('x'));
  });

  it('ties go to the older cluster (deterministic)', () => {
    const m = new TemplateMiner({ stableAfter: 0 });
    const a = m.match('alpha beta gamma delta 1');
    const b = m.match('zeta eta theta iota 2');
    expect(b.id).not.toBe(a.id);
    const seen = new Set([a.id, b.id]);
    const r = m.match('alpha beta theta iota 3');
    expect(seen.has(r.id) || r.created).toBe(true);
    const again = new TemplateMiner({ stableAfter: 0 });
    expect(['alpha beta gamma delta 1', 'zeta eta theta iota 2', 'alpha beta theta iota 3'].map((x) => again.match(x).id)).toEqual([a.id, b.id, r.id]);
  });

  it('empty and odd input never throws', () => {
    const m = new TemplateMiner();
    expect(m.match('').template).toBe('');
    expect(m.match('   ').id).toBe(m.match('').id);
    expect(() => m.match('<*> <*> <*>')).not.toThrow();
    expect(() => m.match(undefined as unknown as string)).not.toThrow();
  });
});

describe('TemplateMiner properties', () => {
  const word = fc.constantFrom('error', 'user', 'from', 'connection', 'closed', 'block', 'size', 'to', 'node', 'failed', 'ok', 'retry');
  const value = fc.oneof(
    fc.integer().map(String),
    fc.ipV4(),
    fc.uuid(),
    fc.integer({ min: 0 }).map((h) => `0x${h.toString(16).padStart(8, "0")}`),
    word,
  );
  const message = fc.array(fc.oneof(word, value), { minLength: 0, maxLength: 12 }).map((xs) => xs.join(' '));
  const stream = fc.array(fc.oneof(message, fc.string({ maxLength: 80 })), { maxLength: 60 });

  it('never throws; same input → same ids; a template id never changes', () => {
    fc.assert(
      fc.property(stream, (msgs) => {
        const a = new TemplateMiner();
        const b = new TemplateMiner();
        const firstTemplate = new Map<string, string>();
        for (const msg of msgs) {
          const r = a.match(msg);
          expect(b.match(msg)).toEqual(r);
          if (r.created) {
            expect(firstTemplate.has(r.id)).toBe(false);
            firstTemplate.set(r.id, r.template);
          } else expect(firstTemplate.has(r.id)).toBe(true);
        }
        // every id still exists, once, with its count; ids are the creation-time ones
        const ts = a.templates();
        expect(new Set(ts.map((t) => t.id)).size).toBe(ts.length);
        expect(ts.map((t) => t.id).sort()).toEqual([...firstTemplate.keys()].sort());
        expect(ts.reduce((s, t) => s + (t.count ?? 0), 0)).toBe(msgs.length);
        // peek after learning returns a known id for every message seen (never creates)
        for (const msg of msgs) {
          const p = a.peek(msg);
          if (p) expect(firstTemplate.has(p.id)).toBe(true);
        }
        expect(a.templates().length).toBe(ts.length);
      }),
      { numRuns: 300 },
    );
  });

  it('the cache of messages seen changes no result: cached and uncached miners agree on every match and count', () => {
    // Messages drawn from a small pool, so most repeat; words that settle, outcomes and keywords among them.
    const words = fc.constantFrom('error', 'user', 'from', 'connection', 'closed', 'failed', 'ok', 'GET', 'POST', 'state=ready', 'state=failed', 'id=7', 'Received:');
    const pooled = fc.array(fc.array(fc.oneof(words, value), { minLength: 1, maxLength: 8 }).map((xs) => xs.join(' ')), { minLength: 1, maxLength: 12 });
    const settings = fc.record({ stableAfter: fc.constantFrom(0, 2, 16), cache: fc.constantFrom(3, 8192) });
    fc.assert(
      fc.property(pooled, fc.array(fc.nat(), { maxLength: 150 }), settings, (pool, picks, { stableAfter, cache }) => {
        const cached = new TemplateMiner({ stableAfter, cacheMessages: cache });
        const uncached = new TemplateMiner({ stableAfter, cacheMessages: 0 });
        for (const k of picks) {
          const msg = pool[k % pool.length];
          expect(cached.peek(msg)).toEqual(uncached.peek(msg));
          expect(cached.match(msg)).toEqual(uncached.match(msg));
        }
        expect(cached.templates()).toEqual(uncached.templates());
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });

  it('loading templates then matching gives the stored ids', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 40 }), (msgs) => {
        const a = new TemplateMiner();
        for (const msg of msgs) a.match(msg);
        const b = new TemplateMiner();
        b.load(a.templates());
        const known = new Set(a.templates().map((t) => t.id));
        for (const msg of msgs) {
          const p = b.peek(msg);
          expect(p).toBeDefined();
          expect(known.has(p!.id)).toBe(true);
          expect(p).toEqual(a.peek(msg));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('values of one key', () => {
  it('vary in one template (the key stays), with the first template\'s id', () => {
    const m = new TemplateMiner();
    const first = m.match('release:lock=11, flg=0x0, tag="*alarm*", name=com.android.phone, ws=null, uid=1000, pid=2227');
    const second = m.match('release:lock=12, flg=0x0, tag="View Lock", name=com.tencent.mm, ws=null, uid=1001, pid=28');
    expect(second.id).toBe(first.id);
    expect(second.template).toContain('tag=<*>');
    expect(second.template).toContain('name=<*>');
    expect(second.template).toContain('ws=null');
  });
});

describe('upper-case keywords', () => {
  it('isKeyword: upper-case words in punctuation, with at most a masked number after them', () => {
    for (const k of ['GET', '"POST', 'HTTPS', 'SOCKS<*>', '[LNKA]', 'ERROR:', 'SUCCESS_CONTAINER_CLEANUP', 'MB)']) expect(isKeyword(k)).toBe(true);
    for (const w of ['Get', 'get', 'A', '<*>', '<num>', 'HTTP/<*>"', '\\_SB_.PCI<*>.PBHI._PRT', 'FF:<*>:EB', '_X_', 'GET<*>X', "'JP'.", '"OK"']) expect(isKeyword(w)).toBe(false);
  });
  it('two different keywords at one position are two templates, even before the word settles', () => {
    const m = new TemplateMiner();
    const get = m.match('10.11.10.1 "GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829');
    const post = m.match('10.11.10.1 "POST /v2/54fadb412c4e40cdbaed9335e4c35a9e/os-server-external-events HTTP/1.1" status: 200 len: 380 time: 0.0913219');
    expect(post.id).not.toBe(get.id);
    expect(post.created).toBe(true);
    expect(m.match('10.11.10.2 "GET /v2/e9746973ac574c6b8a9e8857f56a7608/servers/detail HTTP/1.1" status: 404 len: 78 time: 0.1').id).toBe(get.id);
    const https = m.match('chrome.exe - clients4.google.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS');
    const socks = m.match('chrome.exe - clients4.google.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 SOCKS5');
    expect(socks.id).not.toBe(https.id);
    expect(m.match('Dropbox.exe - d.dropbox.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 SOCKS5').id).toBe(socks.id);
    expect(m.match('Dropbox.exe - d.dropbox.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS').id).toBe(https.id);
    // a keyword facing a lower-case word, or an upper-case word in mixed case, still generalizes
    const a = m.match('Invalid user ADMIN from 10.0.0.1');
    expect(m.match('Invalid user oracle from 10.0.0.2').id).toBe(a.id);
  });
  it('a dotted constant (intent action, enum) is a keyword where nothing else differs; beside another value, one more value', () => {
    for (const k of ['android.intent.action.SCREEN_ON', 'action:android.intent.action.TIME_TICK', 'act=android.net.wifi.STATE_CHANGE', 'org.acme.State.RUNNING']) expect(isConstantName(k)).toBe(true);
    for (const w of ['SCREEN_ON', 'com.acme.PushService', 'proxy.cse.cuhk.edu.hk:5070', 'Java.LANG', 'a.b', '10.0.0.1', 'http.S', 'vacation.JPG', 'scan.TIFF']) expect(isConstantName(w)).toBe(false);
    const m = new TemplateMiner();
    const on = m.match('processHandleBroadcastAction action:android.intent.action.SCREEN_ON');
    const off = m.match('processHandleBroadcastAction action:android.intent.action.SCREEN_OFF');
    expect(off.id).not.toBe(on.id);
    expect(m.match('processHandleBroadcastAction action:android.intent.action.SCREEN_ON').id).toBe(on.id);
    const received = m.match('onReceive action: android.intent.action.SCREEN_ON');
    expect(m.match('onReceive action: android.intent.action.SCREEN_OFF').id).not.toBe(received.id);
    // the action varies with the package: both are the parameters of one failure
    const a = m.match('Unable to start service Intent { act=android.intent.action.SYNC pkg=com.baidu.systemui } U=0: not found');
    const b = m.match('Unable to start service Intent { act=android.intent.action.MEDIA_MOUNTED pkg=com.miui.wallet } U=0: not found');
    expect(b.id).toBe(a.id);
    expect(b.template).toContain('act=<*> pkg=<*>');
  });
  it('a method or module opening a message is its source: two of them, two templates; hosts and packages there stay values', () => {
    for (const k of ['"operationExecutor.MountVolume', 'SyncLoop.Probe:', 'org.apache.Foo']) expect(isMethodName(k)).toBe(true);
    for (const w of ['d.dropbox.com', 'com.tencent.mm/.ui.LauncherUI:', 'MountVolume', 'a..B', 'host1.Example.com2', '.Foo', 'invoiceMarch.pdf', 'README.md', 'scan.TIFF']) expect(isMethodName(w)).toBe(false);
    const m = new TemplateMiner();
    const line = (op: string, volume: string) => `"operationExecutor.${op} started for volume \\"${volume}\\" (UniqueName: \\"kubernetes.io/secret/${volume}-token\\") pod=\\"web-7d4b9\\" " pod="default/web-7d4b9"`;
    const mount = m.match(line('MountVolume', 'config'));
    const verify = m.match(line('VerifyControllerAttachedVolume', 'config'));
    expect(verify.id).not.toBe(mount.id);
    expect(m.match(line('MountVolume', 'data')).id).toBe(mount.id);
    for (const k of ['pam_unix(sshd:session):', 'pam_systemd(cron:session)', 'pam_unix(su:auth)']) expect(isModuleCall(k)).toBe(true);
    for (const w of ['(root)', 'LOGIN(uid=0)', 'pam_unix(sshd:session)x', 'f(<num>)', 'x(1)', 'imap(alice):']) expect(isModuleCall(w)).toBe(false);
    const ssh = m.match('pam_unix(sshd:session): session closed for user alice');
    const cron = m.match('pam_unix(cron:session): session closed for user root');
    expect(cron.id).not.toBe(ssh.id);
    expect(m.match('pam_unix(sshd:session): session closed for user bob').id).toBe(ssh.id);
    const host = m.match('d.dropbox.com:443 open through proxy');
    expect(m.match('clients4.google.com:443 open through proxy').id).toBe(host.id);
  });
  it('a boolean is a state where it is the only difference; flags that vary with other values stay values', () => {
    const m = new TemplateMiner();
    const unplugged = m.match('onBatteryLevelChanged level=80 plugged=false');
    const plugged = m.match('onBatteryLevelChanged level=81 plugged=true');
    expect(plugged.id).not.toBe(unplugged.id);
    expect(m.match('onBatteryLevelChanged level=12 plugged=false').id).toBe(unplugged.id);
    const flags = m.match('options debug=true verbose=false trace=true set by alice');
    expect(m.match('options debug=false verbose=true trace=true set by bob').id).toBe(flags.id);
    // a few flags changing together, nothing else: states too — the worse never hides in the first's template
    const probe = (c: boolean, r: boolean) => `"Probe result" probe="readiness" connected=${c} ready=${r} pod="shop/web-1"`;
    const up = m.match(probe(true, true));
    const notReady = m.match(probe(true, false));
    const down = m.match(probe(false, false));
    expect(new Set([up.id, notReady.id, down.id]).size).toBe(3);
    expect(m.match(probe(true, true)).id).toBe(up.id);
  });
});

describe('values spanning a different number of tokens', () => {
  it('a value of two tokens joins the template where one token held it, either way round, with the first id', () => {
    const m = new TemplateMiner();
    const one = m.match('chrome.exe - clients4.google.com:443 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS');
    const two = m.match('svchost.exe *64 - ocsp.digicert.com:80 open through proxy proxy.cse.cuhk.edu.hk:5070 HTTPS');
    expect(two.id).toBe(one.id);
    expect(two.template).toBe('<*> - <host> open through proxy <host> HTTPS');
    // The longer form first: the template takes the shorter form, and keeps its id.
    const n = new TemplateMiner();
    const long = n.match('release:lock=62097424, flg=0x0, tag="NlpWakeLock", name=com.google.android.gms, ws=WorkSource{10014 com.google.android.gms}, uid=10014, pid=3012');
    const short = n.match('release:lock=166121161, flg=0x0, tag="View Lock", name=com.android.systemui, ws=null, uid=10037, pid=2227');
    expect(short.id).toBe(long.id);
    expect(short.template).toBe('release:lock=<num>, flg=<hex>, tag=<*> name=<*> ws=<*> uid=<num>, pid=<num>');
    expect(n.match('release:lock=62097425, flg=0x0, tag="NlpWakeLock", name=com.google.android.gms, ws=WorkSource{10014 com.google.android.gms}, uid=10014, pid=3012').id).toBe(long.id);
    expect(n.size).toBe(1);
  });

  it('words do not join a value, another field is not a longer value, and the text after the run must agree', () => {
    const m = new TemplateMiner();
    const a = m.match('Connection closed by 10.0.0.1 port 22');
    expect(m.match('Connection closed by authenticating user root 10.0.0.1 port 22').id).not.toBe(a.id);
    const b = m.match('authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.1');
    expect(m.match('authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.2 user=root').id).not.toBe(b.id);
    const c = m.match('ARPT: 636882.283283: wl0: wl_update_tcpkeep_seq: Original Seq: 968739130, Ack: 1109439921, Win size: 2048');
    expect(m.match('ARPT: 637767.780693: wl0: setup_keepalive: Seq: 968739140, Ack: 1109439921, Win size: 4096').id).not.toBe(c.id);
    // A trailing annotation is no longer value; a token that says how it went is no value at all.
    const e = m.match('Mounted volume pvc-1234 at /var/lib/kubelet/pods/abc/volumes');
    expect(m.match('Mounted volume pvc-1237 at /var/lib/kubelet/pods/abf/volumes fsck:errors').id).not.toBe(e.id);
    const f = m.match('Uploaded /data/a.csv to s3://bucket/a.csv');
    expect(m.match('Uploaded /data/d.csv (checksum:MISMATCH) to s3://bucket/d.csv').id).not.toBe(f.id);
    expect(m.match('Uploaded /data/e.csv (part:7) to s3://bucket/e.csv').id).toBe(f.id);
    // A template of bare values says nothing: a message of other values does not join it.
    const d = m.match('12 13 14 15');
    expect(m.match('setTodayTotalDetailSteps=1514038440000##7007##548365##8661##12361##27173954').id).not.toBe(d.id);
  });
});

describe('values that are not words (held-out corpus, 2026-12-02)', () => {
  it('component names vary in one template, as masked values do (intent actions: constants, see upper-case keywords)', () => {
    const m = new TemplateMiner();
    const ids = [
      'Displayed com.tencent.mm/.ui.LauncherUI: +812ms',
      'Displayed com.sina.weibo/.MainTabActivity: +1s20ms',
      'Displayed com.android.settings/.HWSettings: +95ms',
    ].map((s) => m.match(s).id);
    expect(new Set(ids).size).toBe(1);
  });

  it('two different field labels with values after them are two templates; a name before a colon followed by words is a value', () => {
    const m = new TemplateMiner();
    const disk = m.match('[instance: 0a1b2c3d-1111-2222-3333-444455556666] Total disk: 20 GB, used: 5.00 GB').id;
    const memory = m.match('[instance: 0a1b2c3d-1111-2222-3333-444455556666] Total memory: 512 MB, used: 128.00 MB').id;
    expect(memory).not.toBe(disk);
    const users = ['apache', 'admin', 'mysql'].map((u) => m.match(`user ${u}: authentication failure for "/private/": Password Mismatch`).id);
    expect(new Set(users).size).toBe(1);
  });

  it('a failure word is never read as a value, nor is a message of bare values', () => {
    const m = new TemplateMiner();
    const ok = m.match('sync com.acme/.Worker done').id;
    expect(m.match('sync com.acme/.Other done').id).toBe(ok);
    expect(m.match('sync checksum:MISMATCH done').id).not.toBe(ok);
  });
});

describe("an outside tester's cases (2026-12-03)", () => {
  const distinct = (lines: string[]) => {
    const m = new TemplateMiner();
    return new Set(lines.map((l) => m.match(l).id)).size;
  };

  it('long lines that differ only at the end are two templates; the same end with other values is one', () => {
    const head = (n: number) => `Could not commit transaction ${n} for order ${n * 3}; SQL [update orders set status = ?, total = ? where id = ?]; `.repeat(11);
    const tail = (type: string) => `nested exception is org.hibernate.exception.${type}: could not execute statement`;
    const m = new TemplateMiner();
    const lock = m.match(head(1) + tail('LockAcquisitionException'));
    const constraint = m.match(head(2) + tail('ConstraintViolationException'));
    expect(head(1).length).toBeGreaterThan(1024);
    expect(constraint.id).not.toBe(lock.id);
    expect(m.match(head(3) + tail('LockAcquisitionException')).id).toBe(lock.id);
  });

  it('outcome words: approved/declined, allow/deny, committed/rolled_back, primary/replica, exit-code/timeout', () => {
    expect(distinct(['payment 1001 approved by issuer', 'payment 1002 declined by issuer'])).toBe(2);
    expect(distinct(['firewall rule 7 action=allow src=10.0.0.1', 'firewall rule 8 action=deny src=10.0.0.2'])).toBe(2);
    expect(distinct(['transaction 17 committed on orders', 'transaction 18 rolled_back on orders'])).toBe(2);
    expect(distinct(['node db-1 became primary for shard 3', 'node db-2 became replica for shard 4'])).toBe(2);
    expect(distinct(["web.service: Failed with result 'exit-code'.", "web.service: Failed with result 'timeout'."])).toBe(2);
    for (const [a, b] of [['allow', 'drop'], ['delivered', 'bounced'], ['sent', 'deferred'], ['captured', 'voided'], ['settled', 'chargeback'], ['in_sync', 'out_of_sync'], ['green', 'red'], ['Yes', 'No']])
      expect(distinct([`txn 1 terminal T1 result ${a} amount 5`, `txn 2 terminal T2 result ${b} amount 5`]), `${a}/${b}`).toBe(2);
    expect(distinct(['Node ip-10-0-1-12 status is now: NodeReady', 'Node ip-10-0-1-13 status is now: NodeNotReady'])).toBe(2);
  });

  it('one outcome in two spellings never becomes a <*> that another outcome fills, whatever the order', () => {
    const m = new TemplateMiner();
    const failed = m.match('job build-17 on runner r1 finished failed after 3 retries').id;
    const Failed = m.match('job build-19 on runner r1 finished Failed after 3 retries').id;
    const passed = m.match('job build-20 on runner r1 finished passed after 3 retries').id;
    expect(new Set([failed, Failed, passed]).size).toBe(3);
    expect(m.match('job build-21 on runner r2 finished failed after 2 retries').id).toBe(failed);
    // an upper-case code never fills a slot that a masked code made
    const n = new TemplateMiner();
    const code = n.match('Task failed with E11000').id;
    expect(n.match('Task failed with E11001').id).toBe(code);
    expect(n.match('Task failed with ECONNREFUSED').id).not.toBe(code);
  });

  it('a bracketed upper-case name fills a slot that other names made (Tomcat\'s [ROOT] web application); a bare code does not', () => {
    const m = new TemplateMiner();
    const tail = 'but failed to unregister it when the web application was stopped.';
    const ids = [['billing', 'org.postgresql.Driver'], ['shop', 'com.mysql.cj.jdbc.Driver'], ['ROOT', 'com.mysql.cj.jdbc.Driver'], ['ROOT', 'org.postgresql.Driver'], ['api', 'org.postgresql.Driver']].map(
      ([app, driver]) => m.match(`The web application [${app}] registered the JDBC driver [${driver}] ${tail}`).id,
    );
    expect(new Set(ids).size).toBe(1);
    const n = new TemplateMiner();
    const slot = n.match('connect to db-1 refused by peer').id;
    expect(n.match('connect to db-2 refused by peer').id).toBe(slot);
    expect(n.match('connect to ECONNRESET refused by peer').id).not.toBe(slot);
  });

  it('two different field names are two fields, not one value', () => {
    expect(distinct(['payment processed result=success', 'payment processed state=declined'])).toBe(2);
    expect(distinct(['alert raised disk:critical on host web-1', 'alert raised memory:critical on host web-2'])).toBe(2);
    // one field's values still vary in one template
    expect(distinct(['alert raised disk:/dev/sda1 on host web-1', 'alert raised disk:/dev/sdb2 on host web-2'])).toBe(1);
  });

  it('a server error in free text never shares the template of a served request', () => {
    const lines = (status: number) => [
      `GET /healthz ${status}`,
      `10.0.0.1 - - [03/Dec/2026:06:00:00 +0000] "GET /api/orders HTTP/1.1" ${status} 512 "-" "curl/8.0"`,
      `upstream payments returned ${status} in 35ms`,
      `request finished with status: ${status}`,
      `GET /api/v1/orders -> ${status} (12ms)`,
      `Fetched https://cdn.example.com/a.js (${status})`,
      `Sending response ${status} to client 10.1.1.1`,
      `request done http_code=${status} path=/a`,
    ];
    const m = new TemplateMiner();
    const ok = lines(200).map((l) => m.match(l).id);
    lines(204).forEach((l, i) => expect(m.match(l).id).toBe(ok[i]));
    lines(502).forEach((l, i) => expect(m.match(l).id, l).not.toBe(ok[i]));
    lines(503).forEach((l, i) => expect(m.match(l).id).not.toBe(ok[i]));
    // a count is no status
    expect(distinct(['query returned 200 rows', 'query returned 500 rows'])).toBe(1);
    // a slot of other fields' values never takes a status
    expect(distinct(['call finished tenant=acme', 'call finished tenant=globex', 'call finished status=200'])).toBe(2);
    expect(distinct(['call finished x=acme', 'call finished y=globex', 'call finished status=503'])).toBe(3);
  });

  it('exception types with digits in their names are names', () => {
    expect(distinct(['upload failed: com.amazonaws.services.s3.model.AmazonS3Exception: Access Denied', 'upload failed: com.amazonaws.services.ec2.model.AmazonEC2Exception: Access Denied'])).toBe(2);
    expect(distinct(['stream 3 reset: io.netty.handler.codec.http2.Http2Exception: stream closed', 'stream 5 reset: io.netty.handler.codec.http2.Http2Exception: stream closed'])).toBe(1);
  });
});

describe('short messages with one variable word, and values of two kinds', () => {
  it('a flood of distinct words at one position makes a handful of templates, then one <*>', () => {
    const m = new TemplateMiner();
    const words = Array.from({ length: 500 }, (_, i) => `cmd${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26) % 26)}x`.replace(/\d/g, ''));
    const ids = words.map((w) => m.match(`Unknown command ${w}`).id);
    expect(new Set(ids).size).toBeLessThanOrEqual(8);
    expect(m.match('Unknown command zzzzq').id).toBe(ids[0]);
    expect(m.match('Unknown command zzzzq').template).toBe('Unknown command <*>');
    for (const state of ['deadlock', 'diverged', 'split-brain', 'orphaned', 'readonly', 'segfault']) expect(m.match(`Unknown command ${state}`).id, state).not.toBe(ids[0]);
    // a word with a few values stays a constant: two, five, seven templates
    expect(new Set(['initialization.', 'finalization.'].map((w) => m.match(`Ending TrustedInstaller ${w}`).id)).size).toBe(2);
    const kinds = ['illegal', 'privileged', 'trap', 'imprecise', 'unimplemented', 'alignment', 'floating'];
    expect(new Set(kinds.map((w) => m.match(`program interrupt: ${w}`).id)).size).toBe(7);
    // the first word is the message's subject: never merged this way
    const daemons = Array.from({ length: 12 }, (_, i) => `daemon${'abcdefghijkl'[i]}d`);
    expect(new Set(daemons.map((d) => m.match(`${d} startup succeeded`).id)).size).toBe(12);
  });

  it('values of two kinds at one position are two templates; kinds one field is written in are one', () => {
    const m = new TemplateMiner();
    const short = m.match('proxy.example.com:443 close, 120 bytes sent, 4000 bytes received, lifetime <1 sec');
    const timed = m.match('proxy.example.com:443 close, 180 bytes sent, 9000 bytes received, lifetime 00:02');
    expect(timed.id).not.toBe(short.id);
    expect(m.match('cdn.example.com:443 close, 99 bytes sent, 77 bytes received, lifetime <1 sec').id).toBe(short.id);
    const ip = m.match('Accepted connection from 10.0.0.1 on port 22');
    expect(m.match('Accepted connection from gw.example.com on port 22').id).toBe(ip.id);
    // nothing there is no value: an empty pair never shares a template with a filled one
    const named = m.match('connection from 10.0.0.1 (gw.example.com) at Sun Jul 17 23:21:54 2005');
    const unnamed = m.match('connection from 10.0.0.2 () at Sun Jul 17 23:21:55 2005');
    expect(unnamed.id).not.toBe(named.id);
    expect(m.match('connection from 10.0.0.3 (mail.example.org) at Sun Jul 17 23:21:56 2005').id).toBe(named.id);
    expect(m.match('connection from 10.0.0.4 () at Sun Jul 17 23:21:57 2005').id).toBe(unnamed.id);
    // a name before a value in parentheses varies (`<*>(uid=<num>)`); no name there is another kind
    const byNobody = m.match('session opened for user root by (uid=0)');
    const byUser = m.match('session opened for user cyrus by margaret_bak(uid=501)');
    expect(byUser.id).not.toBe(byNobody.id);
    const byOther = m.match('session opened for user news by LOGIN(uid=0)');
    expect(byOther.id).toBe(byUser.id);
    expect(byOther.template).toBe('session opened for user <*> by <*>(uid=<num>)');
    expect(m.match('session opened for user test by (uid=0)').id).toBe(byNobody.id);
    expect(m.match('session opened for user sales by eric(uid=1000)').id).toBe(byUser.id);
    // an interface before an address is a name of the same kind (Cisco ASA)
    const deny = m.match('Deny tcp src outside:203.0.113.9/4431 dst inside:10.1.9.70/443 by access-group "outside_access_in" [0x0, 0x0]');
    const dmz = m.match('Deny tcp src outside:198.51.100.7/5555 dst dmz:10.10.20.16/80 by access-group "outside_access_in" [0x0, 0x0]');
    expect(dmz.id).toBe(deny.id);
    expect(dmz.template).toContain('dst <*>:<ip> by');
    const order = m.match('Order 1234 not found in store 7');
    expect(m.match('Order 9f8c2a1e-4b3d-4c2a-9e1f-0a1b2c3d4e5f not found in store 8').id).toBe(order.id);
    const num = m.match('Read index 00000005 of table');
    expect(m.match('Read index 0x1f of table').id).toBe(num.id);
  });
});

describe('a flood of free text after a label', () => {
  const words = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma tau upsilon omega'.split(' ');
  const phrase = (i: number) => Array.from({ length: 1 + (i % 9) }, (_, k) => words[(i * 7 + k * 3 + Math.floor(i / 13)) % words.length] + words[(i + k) % 5]).join(' ');

  it('makes at most 128 templates and then one `<label> <*>`, also for peek', () => {
    const m = new TemplateMiner();
    const ids = new Set(Array.from({ length: 3000 }, (_, i) => m.match(`Received message from user ${1000 + i}: ${phrase(i)}`).id));
    expect(ids.size).toBeLessThanOrEqual(129);
    const last = m.match('Received message from user 42: something nobody said before');
    expect(last.template).toBe('Received message from user <num>: <*>');
    expect(m.peek('Received message from user 43: yet another new thing')?.id).toBe(last.id);
    // a restarted miner, with the templates loaded, gives the flood the same template and id
    const again = new TemplateMiner();
    again.load(m.templates());
    const ids2 = new Set(Array.from({ length: 3000 }, (_, i) => again.match(`Received message from user ${9000 + i}: ${phrase(i + 5000)} ${phrase(i)}`).id));
    expect(ids2.has(last.id)).toBe(true);
    expect(again.size - m.size).toBeLessThanOrEqual(128);
    // what says something went wrong is never flood text
    for (const bad of ['database connection lost', 'FATAL out of memory', "TypeError: Cannot read properties of undefined (reading 'chat')", 'payment provider returned 502 Bad Gateway', 'Segmentation fault'])
      expect(m.match(`Received message from user 7: ${bad}`).template, bad).not.toBe(last.template);
    // other messages are untouched
    const other = m.match('Connection reset by peer 10.0.0.1');
    expect(m.match('Connection reset by peer 10.0.0.2').id).toBe(other.id);
  });

  it('labels right after the first are the prefix: a flood of statements leaves the server\'s other messages alone', () => {
    const m = new TemplateMiner();
    const tables = 'orders payments customers kiosks stores products prices invoices refunds audits sessions tokens'.split(' ');
    for (let i = 0; i < 600; i++) m.match(`LOG: statement: SELECT ${phrase(i).replace(/ /g, ', ')} FROM ${tables[i % tables.length]}_${'abcdefghij'[i % 10]}${'klmnopqrst'[Math.floor(i / 10) % 10]} WHERE ${words[i % words.length]} = $1`);
    expect(m.match('LOG: statement: SELECT one, two FROM nowhere_at_all WHERE x = $1').template).toBe('LOG: statement: <*>');
    const crash = m.match('LOG: terminating any other active server processes');
    expect(crash.template).toBe('LOG: terminating any other active server processes');
  });

  it('a label followed by real kinds of message (each seen again) is no flood', () => {
    const m = new TemplateMiner();
    const kinds = Array.from({ length: 300 }, (_, i) => `kernel: ${phrase(i)} ${words[i % words.length]}`);
    for (const k of kinds) for (let again = 0; again < 2; again++) m.match(k);
    expect(m.size).toBeGreaterThan(128);
    const fresh = m.match('kernel: Machine Check Exception: 0000000000000004 Bank 4: b200000000070f0f on CPU0 of node 12 after 30 retries');
    expect(fresh.created).toBe(true);
    expect(fresh.template).not.toContain('kernel: <*>');
  });
});

describe('a fourth held-out corpus (an outside tester, 2026-12-03: PostgreSQL, nginx, Kafka, Redis, kubelet, MySQL, Cassandra, journald)', () => {
  it("nginx: the method inside a field's quoted request is that field's value, not the kind of message", () => {
    const m = new TemplateMiner();
    const line = (method: string, i: number) =>
      `*${1000 + i} connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.${i % 250}, server: api.example.com, request: "${method} /v1/orders/${i} HTTP/1.1", upstream: "http://10.1.0.5:8080/v1/orders/${i}", host: "api.example.com"`;
    // GET settles first (more than stableAfter messages), then the other methods come
    const first = m.match(line('GET', 0));
    for (let i = 1; i < 40; i++) expect(m.match(line('GET', i)).id).toBe(first.id);
    for (const [k, method] of ['POST', 'PUT', 'DELETE', 'HEAD'].entries()) expect(m.match(line(method, 100 + k)).id).toBe(first.id);
    // another kind of message with the same fields is still another template
    const timedOut = m.match(`*77 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.9, server: api.example.com, request: "POST /v1/pay HTTP/1.1", upstream: "http://10.1.0.5:8080/v1/pay", host: "api.example.com"`);
    expect(timedOut.id).not.toBe(first.id);
  });

  it('a quoted request with no field label before it keeps its method (an access line: GET and POST are two kinds)', () => {
    const m = new TemplateMiner();
    const get = m.match('10.0.0.1 "GET /v2/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829');
    const post = m.match('10.0.0.2 "POST /v2/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829');
    expect(post.id).not.toBe(get.id);
  });

  it('Cassandra: counts written n:m are one kind of value whatever their width ({1:10, 2:47} and {1:5941, 2:8})', () => {
    const m = new TemplateMiner();
    const a = m.match('Compacted (6f1c2b40-8a1e-11ee-b9d1-0242ac120002) 4 sstables to [/var/lib/cassandra/data/ks/t-1/nb-12-big,] to level=0.  Partition merge counts were {1:5941, 2:8, }');
    expect(m.match('Compacted (7a2d3c50-8a1e-11ee-b9d1-0242ac120002) 2 sstables to [/var/lib/cassandra/data/ks/t-1/nb-13-big,] to level=0.  Partition merge counts were {1:10, 2:47, }').id).toBe(a.id);
  });
});

describe('a line that heads what follows (fifth held-out corpus, 2026-12-03)', () => {
  it('ends in a colon: another template than the same words as a line of their own', () => {
    const m = new TemplateMiner();
    const line = (n: number, user: string, colon: string) => `closing AMQP connection <0.${n}.0> (10.0.3.${n}:5${n} -> 10.0.0.10:5672, vhost: '/', user: '${user}')${colon}`;
    const whole = m.match(line(11, 'guest', ''));
    const heading = m.match(line(12, 'guest', ':'));
    expect(heading.id).not.toBe(whole.id);
    expect(m.match(line(13, 'orders', '')).id).toBe(whole.id);
    const next = m.match(line(14, 'billing', ':'));
    expect(next.id).toBe(heading.id);
    expect(next.template.endsWith(':')).toBe(true);
    expect(m.match(line(15, 'shop', ':')).id).toBe(heading.id);
    // a value that ends in a colon is no heading (a drive, an IPv6 address)
    const drive = m.match('backup 12 written to D:');
    expect(m.match('backup 13 written to /mnt/backup').id).toBe(drive.id);
    const peer = m.match('peer seen at fe80::1:');
    expect(m.match('peer seen at fe80::2').id).toBe(peer.id);
  });
});

describe('two directions (fifth held-out corpus, 2026-12-03)', () => {
  it('a connection from a host and one to a host are two templates', () => {
    const m = new TemplateMiner();
    const inbound = m.match('Anonymous TLS connection established from mail.example.net[203.0.113.7]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)');
    const outbound = m.match('Trusted TLS connection established to mx.example.org[198.51.100.2]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)');
    expect(outbound.id).not.toBe(inbound.id);
    expect(m.match('Anonymous TLS connection established from relay.example.com[192.0.2.9]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)').id).toBe(inbound.id);
  });
});

describe('a word naming the kind of the value after it (fifth held-out corpus, 2026-12-03)', () => {
  it('two kinds are two templates until eight vary there; after a word that says a name follows, one from the start', () => {
    const m = new TemplateMiner();
    // Tomcat: a web application archive or directory, each with a path after the word
    const archive = m.match('Deploying web application archive [/opt/tomcat/webapps/shop.war]');
    const directory = m.match('Deploying web application directory [/opt/tomcat/webapps/ROOT]');
    expect(directory.id).not.toBe(archive.id);
    expect(m.match('Deploying web application archive [/opt/tomcat/webapps/billing.war]').id).toBe(archive.id);
    expect(m.match('Deploying web application directory [/opt/tomcat/webapps/docs]').id).toBe(directory.id);
    // Android: a process started for a service, an activity or a broadcast
    const kinds = ['service', 'activity', 'broadcast'].map((k, i) => m.match(`Start proc ${2000 + i}:com.example.app/u0a${40 + i} for ${k} com.example.app/.Main${i}`).id);
    expect(new Set(kinds).size).toBe(3);
    // a value after all: eight or more words vary there, and then one template takes them
    const many = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'].map((w) => m.match(`Mounted volume ${w} /dev/sd${w[0]}1 read-write`).id);
    expect(new Set(many.slice(0, 3)).size).toBe(3);
    expect(new Set(many).size).toBeLessThanOrEqual(8);
    expect(m.match('Mounted volume kilo /dev/sdk1 read-write').template).toBe('Mounted volume <*> <path> read-write');
    // first in the message too, before a quoted name (a value: PostgreSQL's relation / column)
    const relation = m.match('relation "orders" does not exist at character 15');
    const column = m.match('column "emial" does not exist at character 8');
    expect(column.id).not.toBe(relation.id);
    expect(m.match('relation "stats_daily" does not exist at character 120').id).toBe(relation.id);
    expect(m.match('column "external_ref" does not exist at character 77').template).toBe('column <*> does not exist at character <num>');
    // a quoted word is a name, a value even in a short message (fail2ban's jails)
    const jail = m.match("Jail 'sshd' started");
    expect(m.match("Jail 'recidive' started").id).toBe(jail.id);
    // a word after `user` is a name at once, whatever follows it
    const alice = m.match('Disconnected from user alice 10.0.0.1 port 22');
    expect(m.match('Disconnected from user bob 10.0.0.2 port 22').id).toBe(alice.id);
    // and a word followed by a word is judged as before (`Failed password for root from …`)
    const root = m.match('Failed password for root from 10.0.0.1 port 22 ssh2');
    expect(m.match('Failed password for admin from 10.0.0.2 port 22 ssh2').id).toBe(root.id);
  });

  it('two different actions in -ing are two templates (MySQL: error reading / error writing communication packets)', () => {
    const m = new TemplateMiner();
    const line = (id: number, db: string, action: string) => `Aborted connection ${id} to db: '${db}' user: 'app' host: '10.0.0.${id % 9}' (Got an error ${action} communication packets).`;
    const reading = m.match(line(101, 'shop', 'reading'));
    const writing = m.match(line(102, 'shop', 'writing'));
    expect(writing.id).not.toBe(reading.id);
    expect(m.match(line(103, 'billing', 'reading')).id).toBe(reading.id);
    expect(m.match(line(104, 'billing', 'writing')).id).toBe(writing.id);
  });

  it('two differing lower-case words in a row are another phrase: two templates (nginx, BGL); one differing word is still a value', () => {
    const m = new TemplateMiner();
    const line = (n: number, what: string) => `*${n} upstream ${what} while reading response header from upstream, client: 10.0.0.${n}, server: shop.example.com, request: "GET /cart HTTP/1.1", upstream: "http://127.0.0.1:9000/cart", host: "shop.example.com"`;
    const closed = m.match(line(1, 'prematurely closed connection'));
    const disabled = m.match(line(2, 'server temporarily disabled'));
    expect(disabled.id).not.toBe(closed.id);
    expect(m.match(line(3, 'prematurely closed connection')).id).toBe(closed.id);
    // a word with a phrase's punctuation after it is a word of the phrase (`… sent too big header` / `… sent in stderr: "<*>"`)
    const big = m.match('*7 upstream sent too big header while reading response header from upstream, client: 10.0.0.1');
    expect(m.match('*8 FastCGI sent in stderr: "Primary script unknown" while reading response header from upstream, client: 10.0.0.2').id).not.toBe(big.id);
    const child = m.match('ciod: Error creating node map from file /p/a: No child processes');
    expect(m.match('ciod: Error creating node map from file /p/b: Bad file descriptor').id).not.toBe(child.id);
    const root = m.match('Accepted password for root from 10.0.0.1 port 22 ssh2');
    expect(m.match('Accepted password for alice from 10.0.0.2 port 22 ssh2').id).toBe(root.id);
  });

  it('a bracketed lower-case name opening the message is its context, a value (fail2ban jails); a level there is not', () => {
    const m = new TemplateMiner();
    const ban = m.match('[sshd] Ban 203.0.113.7');
    expect(m.match('[nginx-http-auth] Ban 198.51.100.9').id).toBe(ban.id);
    expect(m.match('[postfix-sasl] Ban 192.0.2.1').id).toBe(ban.id);
    const found = m.match('[sshd] Found 203.0.113.7 - 2024-03-12 09:28:22');
    expect(found.id).not.toBe(ban.id);
    expect(m.match('[recidive] Found 198.51.100.9 - 2024-03-12 09:29:01').id).toBe(found.id);
    const error = m.match('[error] disk full on /var');
    expect(m.match('[info] disk full on /var').id).not.toBe(error.id);
  });
});

describe('an outside tester\'s attacks on the rules above (2026-12-03)', () => {
  const ids = (lines: string[]) => {
    const m = new TemplateMiner();
    return lines.map((l) => m.match(l).id);
  };
  it('a failure never joins a success through a label that says code follows, a name before a value, or a quoted word', () => {
    // after `sql:` / `query:` comes a result unless it opens like a statement
    expect(new Set(ids(['get user 42: sql: no rows in result set', 'get user 43: sql: database is closed', 'get user 44: sql: connection is already closed'])).size).toBe(3);
    expect(new Set(ids(['graphql query: getUser returned 200 in 12ms', 'graphql query: getUser returned 503 in 12ms'])).size).toBe(2);
    expect(new Set(ids(['dns query: example.com IN A NOERROR', 'dns query: example.com IN A NXDOMAIN', 'dns query: example.com IN A SERVFAIL'])).size).toBe(3);
    // a state or failure before an address or a parenthesized value is no interface or user name
    expect(new Set(ids(['backend check ok:10.0.0.1/5432 in 3 ms pool main', 'backend check down:10.0.0.2/5432 in 3 ms pool main', 'backend check refused:10.0.0.3/5432 in 3 ms pool main', 'backend check DENY:10.0.0.4/5432 in 3 ms pool main'])).size).toBe(4);
    const [exited, crashed] = ids(['worker 7 exited(code=0) after 12 s', 'worker 9 crashed(code=139) after 12 s']);
    expect(crashed).not.toBe(exited);
    const [user, failed] = ids(['session opened for user alice by bob(uid=1000)', 'session opened for user alice by FAILED(uid=1000)']);
    expect(failed).not.toBe(user);
    // a quoted outcome, or any quoted word after a result label, stays a word
    const [approved, funds, stolen] = ids(["payment 123 result 'approved'", "payment 124 result 'insufficient_funds'", "payment 126 result 'stolen_card'"]);
    expect(funds).not.toBe(approved);
    expect(stolen).not.toBe(approved);
  });
  it('a word answering a label that asks how something went, and an upper-case value of a key, stay words (merged before this session)', () => {
    expect(new Set(ids(['request to api failed with code "ECONNREFUSED"', 'request to api failed with code "ETIMEDOUT"', 'request to api failed with code "OK"'])).size).toBe(3);
    expect(new Set(ids(['unit nginx.service state "running"', 'unit nginx.service state "dead"'])).size).toBe(2);
    expect(new Set(ids(["replica db-1 member state 'PRIMARY'", "replica db-2 member state 'RECOVERING'", "replica db-3 member state 'UNKNOWN'"])).size).toBe(3);
    expect(new Set(ids(['audit: type=1400 apparmor="ALLOWED" operation="open" profile="snap"', 'audit: type=1400 apparmor="AUDIT" operation="open" profile="snap"'])).size).toBe(2);
    // a number after such a label is a value as ever
    expect(new Set(ids(['worker exited with code 1 after 3 s', 'worker exited with code 2 after 4 s'])).size).toBe(1);
  });
  it('no template per user, file or service from the rules above', () => {
    const dovecot = (u: string) => `dovecot: imap(${u}): Error: Mailbox INBOX: Corrupted index cache file /var/mail/${u}/dovecot.index.cache: invalid record size`;
    expect(new Set(ids([dovecot('dave'), dovecot('erin'), dovecot('frank')])).size).toBe(1);
    expect(new Set(ids(['upload of vacation.JPG to album 42 finished in 120 ms', 'upload of beach.JPG to album 43 finished in 120 ms', 'upload of scan.TIFF to album 44 finished in 90 ms'])).size).toBe(1);
    expect(new Set(ids(['invoiceMarch.pdf uploaded to bucket reports in 120 ms size 12 KB', 'reportApril.xlsx uploaded to bucket reports in 80 ms size 9 KB', 'README.md uploaded to bucket reports in 10 ms size 1 KB'])).size).toBe(1);
    expect(new Set(ids(['orders 10.0.0.1:8080 registered with consul as healthy instance of service', 'payments 10.0.0.2:8080 registered with consul as healthy instance of service'])).size).toBe(1);
  });
});
