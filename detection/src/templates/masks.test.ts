import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { classifyValue, isHostName, maskMessage, maskToken, maskedTokens, skeleton } from './masks.js';

describe('masks: whole-token values', () => {
  it('IPv4 with and without port, leading slash, brackets', () => {
    expect(maskToken('10.250.19.102')).toBe('<ip>');
    expect(maskToken('10.250.19.102:50010')).toBe('<ip>');
    expect(maskToken('/10.10.34.11:45307')).toBe('<ip>');
    expect(maskToken('[10.0.0.1]')).toBe('[<ip>]');
    expect(maskToken('10.0.0.0/8')).toBe('<ip>');
    // Cisco ASA writes an address and its port with a slash, after an interface name: one value
    // whatever the port (a port of 9320 was a number, of 25 an address: two templates)
    expect(maskToken('(10.0.0.5/9320)')).toBe('(<ip>)');
    expect(maskToken('(198.51.100.10/25)')).toBe('(<ip>)');
    expect(maskToken('outside:198.51.100.7/5555')).toBe('outside:<ip>');
    expect(maskToken('dst:10.0.0.1:22')).toBe('dst:<ip>');
    expect(maskToken('at:12:30:01')).not.toBe('at:<ip>');
  });
  it('a quoted value of several words after a field label is one value, whatever its length; not with a failure word in it', () => {
    const a = maskMessage('AXES: Successful login by username: "alice", user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0", path_info: "/login/".');
    const b = maskMessage('AXES: Successful login by username: "bob", user_agent: "python-requests/2.31 CPython/3.11", path_info: "/login/".');
    expect(a).toBe('AXES: Successful login by username: "alice", user_agent: "<*>", path_info: "/login/".');
    expect(b.replace('"bob",', '"alice",')).toBe(a);
    expect(maskMessage('paused note: "waiting for the next batch", id=7')).toBe('paused note: "<*>", id=<num>');
    expect(maskMessage('closing reason="connection reset by peer" id=7')).toBe('closing reason="connection reset by peer" id=<num>');
    // what went wrong stays words: a failure word keeps the text
    expect(maskMessage('sent in stderr: "PHP Fatal error: Uncaught Error" while reading')).toContain('Fatal error:');
    // not a label before it, or no closing quote: as before
    expect(maskMessage('he said "hello there" twice')).toBe('he said "hello there" twice');
    expect(maskMessage('msg: "unterminated quote here')).toBe('msg: "unterminated quote here');
    expect(maskMessage('Accepted password for root from 192.168.1.5 port 22 ssh2')).toBe('Accepted password for root from <ip> port <num> <*>');
  });
  it('after a label that says code follows, the query is one value; not with a failure word in it', () => {
    expect(maskMessage('duration: 0.412 ms  statement: SELECT * FROM orders WHERE id = 42')).toBe('duration: <duration> statement: <*>');
    expect(maskMessage('duration: 12.5 ms  execute <unnamed>: UPDATE stock SET qty = qty - 1 WHERE sku = $1')).toBe('duration: <duration> execute <*>: <*>');
    expect(maskMessage('duration: 3.1 ms  execute S_1: COMMIT')).toBe('duration: <duration> execute <*>: <*>');
    expect(maskMessage('slow Query: select 1')).toBe('slow Query: <*>');
    expect(maskMessage('could not run statement: lock timeout exceeded')).toContain('timeout exceeded');
    // `execute` without a statement name after it, or a label with nothing after it: as before
    expect(maskMessage('failed to execute the job')).toBe('failed to execute the job');
    expect(maskMessage('empty statement:')).toBe('empty statement:');
  });
  it('IPv6, not times or C++ scopes', () => {
    expect(maskToken('fe80::1')).toBe('<ip>');
    expect(maskToken('2001:db8:0:0:0:0:2:1')).toBe('<ip>');
    expect(maskToken('[2001:db8::1]:443')).toBe('<ip>');
    expect(maskToken('::1')).toBe('<ip>');
    expect(maskToken('03:55:15')).toBe('<time>');
    expect(maskToken('IdoTransportMgr::SendPacket')).toBe('IdoTransportMgr::SendPacket');
  });
  it('MAC addresses', () => {
    expect(maskToken('00:11:43:e3:ba:c3')).toBe('<mac>');
    expect(maskToken('00-11-43-E3-BA-C3')).toBe('<mac>');
  });
  it('host names by known TLD; class and file names are not hosts', () => {
    expect(isHostName('mail.example.com')).toBe(true);
    expect(isHostName('dn228.cluster.local')).toBe(true);
    expect(isHostName('api.example.io:8080')).toBe(true);
    expect(maskToken('mail.example.com')).toBe('<host>');
    expect(maskToken('(host.example.org)')).toBe('(<host>)');
    for (const notHost of ['org.apache.Foo', 'dfs.DataNode$PacketResponder', 'java.lang.String', 'wcp.dll', 'mapred.task.id', 'run.sh', 'rpc.statd', 'org.apache.hadoop.mapreduce.v2.app.MRAppMaster']) {
      expect(isHostName(notHost), notHost).toBe(false);
    }
    expect(maskToken('dfs.DataNode$PacketResponder')).toBe('dfs.DataNode$PacketResponder');
    expect(maskToken('org.apache.Foo')).toBe('org.apache.Foo');
    // a dotted name with digits that is no host still has its digits masked
    expect(maskToken('org.apache.hadoop.mapreduce.v2.app.MRAppMaster')).toBe('org.apache.hadoop.mapreduce.<*>.app.MRAppMaster');
  });
  it('URLs, paths, e-mail', () => {
    expect(maskToken('hdfs://msra-sa-41:9000/tmp/job.jar')).toBe('<url>');
    expect(maskToken('https://example.com/a?b=1')).toBe('<url>');
    expect(maskToken('/var/log/messages')).toBe('<path>');
    expect(maskToken('/tmp/x1')).toBe('<path>');
    expect(maskToken('C:\\Windows\\winsxs\\amd64.dll')).toBe('<path>');
    expect(maskToken('/')).toBe('/');
    expect(maskToken('root@example.com')).toBe('<email>');
    expect(maskToken('<a.b+c@mail.example.org>,')).toBe('<<email>>,');
  });
  it('uuids in any surrounding, also before _', () => {
    expect(maskToken('123e4567-e89b-12d3-a456-426614174000')).toBe('<uuid>');
    expect(maskToken('123e4567-e89b-12d3-a456-426614174000_del')).toBe('<uuid>_del');
    expect(maskToken('job-123e4567-e89b-12d3-a456-426614174000.log')).toBe('job-<uuid>.log');
  });
  it('hex: 0x…, long hex with digits, fixed-width hex same as fixed-width decimal', () => {
    expect(maskToken('0x7fed806eb5d')).toBe('<hex>');
    expect(maskToken('0000000d')).toBe(maskToken('00000005'));
    expect(maskToken('8aff0003')).toBe(maskToken('90990003'));
    expect(maskToken('deadbeef')).toBe('deadbeef'); // no digit: a word
    expect(maskToken('face')).toBe('face');
  });
  it('an amount and its currency code are one number; other upper-case words after a number stay', () => {
    expect(maskMessage('Order ORD-7 paid, total 21.78 EUR')).toBe('Order ORD-<*> paid, total <num>');
    expect(maskMessage('Order ORD-8 paid, total 9.00 USD.')).toBe('Order ORD-<*> paid, total <num>.');
    expect(maskMessage('HTTP/1.1 200 OK')).toBe('HTTP/<*> <num> OK');
    expect(maskMessage('listening on 8080 TCP')).toBe('listening on <num> TCP');
  });
  it('signed numbers: blk_-1 and blk_1 alike; decimals', () => {
    expect(maskToken('blk_-6952295868487656571')).toBe(maskToken('blk_38865049064139660'));
    expect(maskToken('blk_-1')).toBe('blk_<*>');
    expect(maskToken('-12')).toBe('<num>');
    expect(maskToken('+3.5')).toBe('<num>');
    expect(maskToken('3.14,')).toBe('<num>,');
    expect(maskToken('x-1')).toBe('x-<*>'); // a dash inside a word is no sign
  });
  it('sizes and durations, in one token or two', () => {
    expect(maskToken('10MB')).toBe('<size>');
    expect(maskToken('4.5KiB')).toBe('<size>');
    expect(maskToken('150ms')).toBe('<duration>');
    expect(maskToken('2.5s')).toBe('<duration>');
    expect(maskMessage('estimated size 4.5 KB, free 10 MB')).toBe('estimated size <size>, free <size>');
    expect(maskMessage('took 150 ms')).toBe('took <duration>');
    expect(maskMessage('took 3 seconds.')).toBe('took <duration>.');
  });
  it('dates and times', () => {
    expect(maskToken('2005-06-03')).toBe('<date>');
    expect(maskToken('2016-09-28T04:30:30Z')).toBe('<date>');
    expect(maskToken('2005-06-03-15.42.50.675872')).toBe('<date>');
    expect(maskToken('2016/9/27')).toBe('<date>');
    expect(maskToken('17:41:44,747')).toBe('<time>');
    expect(maskToken('15:16:01')).toBe('<time>');
    // without seconds a time has a two-digit hour; `1:10` is a count or a ratio
    expect(maskToken('00:02')).toBe('<time>');
    expect(maskToken('9:05:03')).toBe('<time>');
    expect(maskToken('1:10')).toBe(maskToken('1:5941'));
    expect(maskMessage('at Sun Jul 10 03:55:15 2005 done')).toBe('at <date> done');
    expect(maskMessage('Jun 14 15:16:01 combo sshd')).toBe('<date> combo sshd');
    expect(maskMessage('(Release Date: Fri Dec 10 19:02:14 EST 2004)')).toBe('(Release Date: <date>)');
    expect(maskMessage('10.30 16:49:06 started')).toBe('<num> <time> started');
    // A month word not followed by a day stays a word
    expect(maskMessage('May the force')).toBe('May the force');
    expect(maskMessage('Mar 5 and Mar 12')).toBe('<date> and <date>');
  });
  it('ids mixing letters and digits; key=value keeps the key', () => {
    expect(maskToken('jA9J1UvC004306:')).toBe('<*>:');
    expect(maskToken('jA9J1UvC004306')).toBe(maskToken('kB1C2XyZ123456'));
    expect(maskToken('(uid=0)')).toBe('(uid=<num>)');
    expect(maskToken('relay=[127.0.0.1]')).toBe('relay=[<ip>]');
    expect(maskToken('appattempt_1445144423722_0020_000001')).toBe('appattempt_<*>_<*>_<*>');
    expect(maskToken('ssh2')).toBe('<*>'); // a letter-digit run with a digit is one value
  });
  it('words and punctuation stay as they are', () => {
    for (const w of ['error:', '(supports', 'Connection', "'Connection", 'closed.', 'BLOCK*', '<*>', '...', 'a.b', 'yarn,curi']) expect(maskToken(w), w).toBe(w);
    expect(classifyValue('')).toBeUndefined();
  });
});

describe('masks: messages', () => {
  it('a run of the same masked token is one token (lists of any length)', () => {
    const one = maskedTokens('ask 10.0.0.1:50010 to delete blk_1');
    const many = maskedTokens('ask 10.0.0.2:50010 to delete blk_1 blk_-2 blk_3');
    expect(many).toEqual(one);
    // longer than maxChars: the run goes on across the gap between head and tail
    const longer = maskedTokens(`ask 10.0.0.2:50010 to delete ${Array.from({ length: 300 }, (_, i) => `blk_${i * 7919}`).join(' ')}`);
    expect(longer).toEqual(one);
  });
  it('only the first line; a long one as its head and tail, cut at token boundaries', () => {
    expect(maskedTokens('Exception in thread main\n  at Foo.bar(Foo.java:1)')).toEqual(['Exception', 'in', 'thread', 'main']);
    const long = 'word '.repeat(200) + 'x';
    const toks = maskedTokens(long, 512);
    const gap = toks.indexOf('…');
    // the first 48 tokens and the last 16 (15 words and `x`)
    expect(gap).toBe(48);
    expect(toks.slice(0, gap).every((t) => t === 'word')).toBe(true);
    expect(toks.slice(gap + 1)).toEqual([...Array(15).fill('word'), 'x']);
    // the same within maxChars: 100 tokens
    expect(maskedTokens('word '.repeat(99) + 'x')).toEqual(toks);
    // lines of one kind with values of other lengths: one token list
    const key = (i: number) => `k${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`;
    const kv = (w: number) => `slow batch id=1 ${Array.from({ length: 160 }, (_, i) => `${key(i)}=${'7'.repeat(w)}`).join(' ')} done`;
    expect(kv(1).length).toBeLessThan(1024); // one within maxChars, one beyond
    expect(kv(3).length).toBeGreaterThan(1024);
    expect(maskedTokens(kv(1))).toEqual(maskedTokens(kv(3)));
    // A line without whitespace in its tail window: the head only.
    expect(maskedTokens('abcdefghij', 5)).toEqual(['abcd']);
    // The cause at the end of a long line is mined.
    const head = 'could not execute batch; SQL [insert into orders (id, customer, total) values (?, ?, ?)]; '.repeat(12);
    const a = maskedTokens(`${head}nested exception is org.hibernate.exception.LockAcquisitionException: could not execute batch`);
    const b = maskedTokens(`${head}nested exception is org.hibernate.exception.ConstraintViolationException: could not execute batch`);
    expect(a.at(-5)).toBe('org.hibernate.exception.LockAcquisitionException:');
    expect(b.at(-5)).toBe('org.hibernate.exception.ConstraintViolationException:');
  });
  it('whitespace runs and tabs separate tokens; empty message → no tokens', () => {
    expect(maskedTokens('a \t b   c')).toEqual(['a', 'b', 'c']);
    expect(maskedTokens('')).toEqual([]);
    expect(maskedTokens('   ')).toEqual([]);
  });
  it('skeleton: the letters of a masked token', () => {
    expect(skeleton('#<*>#<*>')).toBe(skeleton('#<*>#'));
    expect(skeleton('lr:<*>')).not.toBe(skeleton('cr:<*>'));
  });
  it('property: never throws, deterministic, no whitespace inside tokens', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const a = maskedTokens(s);
        expect(maskedTokens(s)).toEqual(a);
        for (const t of a) {
          expect(t.length).toBeGreaterThan(0);
          expect(/\s/.test(t)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('property: numbers of any value mask alike in the same place', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        expect(maskMessage(`read ${a} bytes from blk_${a}`)).toBe(maskMessage(`read ${b} bytes from blk_${b}`));
      }),
    );
  });
});

describe('masks found by an outside tester', () => {
  it('the common log format date of access logs is one date; compound durations are durations', () => {
    expect(maskMessage('[16/May/2024:01:41:41 +0000] "GET / HTTP/1.1"')).toBe(maskMessage('[03/Jan/2025:23:05:09 +0100] "GET / HTTP/1.1"'));
    expect(maskMessage('[16/May/2024:01:41:41 +0000]')).toContain('<date>');
    expect(maskMessage('retry in 1m30s')).toBe('retry in <duration>');
    expect(maskMessage('uptime 2h15m')).toBe('uptime <duration>');
  });
});

describe('key="quoted value with spaces"', () => {
  it('is one token, so values of any word count keep the message\'s length', () => {
    expect(maskedTokens('acquire lock=1, tag="View Lock", ws=null')).toHaveLength(maskedTokens('acquire lock=2, tag="alarm", ws=null').length);
    expect(maskedTokens('say "hello there" now')).toHaveLength(4); // a quote that is not a key's value is not joined
  });
});

describe('masks for systems outside the dev set', () => {
  it('an upper-case word ending in a number keeps its letters (a keyword with a version or index)', () => {
    expect(maskToken('SOCKS5')).toBe('SOCKS<*>');
    expect(maskToken('HTTP2')).toBe('HTTP<*>');
    expect(maskToken('[CPU3]')).toBe('[CPU<*>]');
    expect(skeleton(maskToken('SOCKS5'))).toBe('SOCKS');
    expect(skeleton(maskToken('SOCKS5'))).not.toBe(skeleton(maskToken('HTTP2')));
    // hex-looking, lower-case, one letter or letters after digits: still one opaque value
    expect(maskToken('ABC1')).toBe('<num>');
    expect(maskToken('FACE12x')).toBe('<*>');
    expect(maskToken('eth0')).toBe('<*>');
    expect(maskToken('R23-M0')).toBe('<*>-<*>');
    expect(maskToken('u0a111')).toBe('<*>');
  });
  it('true and false are values', () => {
    expect(maskMessage('isMissingCalled = true')).toBe('isMissingCalled = <*>');
    expect(maskMessage('isMissingCalled = false')).toBe(maskMessage('isMissingCalled = true'));
    expect(maskMessage('allDrawn= False, visible (TRUE),')).toBe('allDrawn= <*>, visible (<*>),');
    expect(maskMessage('it is truer than falsehood')).toBe('it is truer than falsehood');
  });
  it("a unit's or a task's name after a lifecycle verb is one value (systemd, Jenkins); not a lower-case word, a number, a bracket or a label", () => {
    expect(maskMessage('Starting Daily apt download activities...')).toBe('Starting <*>...');
    expect(maskMessage('Finished Certbot.')).toBe('Finished <*>.');
    expect(maskMessage('Finished Discard unused blocks on filesystems from /etc/fstab.')).toBe('Finished <*>.');
    expect(maskMessage('Started Download metadata')).toBe(maskMessage('Started Workspace clean-up'));
    expect(maskMessage('Finished Workspace clean-up. 5 ms')).toBe('Finished <*>. <duration>');
    expect(maskMessage('Stopped Online ext4 Metadata Check for All Filesystems.')).toBe('Stopped <*>.');
    // Not names: a lower-case word (what is done), a number, a bracket, a label, a version.
    expect(maskMessage('Started initialization')).toBe('Started initialization');
    expect(maskMessage('Started Session 5 of User root.')).toBe('Started Session <num> of User root.');
    expect(maskMessage('Starting ProtocolHandler ["http-nio-8080"]')).toContain("ProtocolHandler");
    expect(maskMessage('Starting Servlet engine: [Apache Tomcat/9.0.85]')).not.toContain('Starting <*>');
    expect(maskMessage('Started OrderServiceApplication in 4.123 seconds (process running for 4.9)')).toContain('OrderServiceApplication');
    expect(maskMessage('Starting Jetty v9.4.53')).toBe('Starting Jetty <*>');
    // Only as the message's first word — also not where a long line's tail window starts.
    expect(maskMessage('Job Started Download metadata')).toBe('Job Started Download metadata');
    let tail = 'Started Download metadata';
    while (tail.length < 256) tail += ' abcdefghijklmnopqrstuvw';
    tail = tail.slice(0, 256);
    const long = `${'job '.repeat(300)}${tail}`;
    expect(long.slice(-256)).toBe(tail);
    expect(maskMessage(long)).toContain('Started Download metadata');
    // How it went is no part of a name (an outside tester's lines): those stay word for word.
    for (const line of ['Finished Certbot with errors.', 'Finished Certbot successfully.', 'Finished Backup with warnings.', 'Stopped Certbot due to timeout.', 'Finished OK.', 'Finished ERROR.', 'Finished ABORTED.']) {
      expect(maskMessage(line), line).toBe(line);
    }
    // A one-word name needs its full stop: a program's own word is no unit name.
    expect(maskMessage('Starting NameNode')).toBe('Starting NameNode');
    expect(maskMessage('Started Kubernetes Kubelet.')).toBe('Started <*>.');
  });
  it('a bracketed list is one value whatever its length: its items\' one mask, or <*> when they differ', () => {
    const one = maskMessage('orders-service: partitions assigned: [orders.payments-3]');
    expect(one).toBe('orders-service: partitions assigned: [orders.payments-<*>]');
    expect(maskMessage('orders-service: partitions assigned: [orders.payments-0, orders.payments-7, orders.payments-11]')).toBe(one);
    expect(maskMessage('nodes [es-1, es-2] joined, [alpha, beta].')).toBe('nodes [es-<*>] joined, [<*>].');
    // Not a list: an item with a bracket of its own, an item without its comma, no closing bracket.
    expect(maskMessage('[Field error in object x]')).toBe('[Field error in object x]');
    expect(maskMessage('values [a, b c]')).toBe('values [a, b c]');
    expect(maskMessage('values [a, b, c')).toBe('values [a, b, c');
    expect(maskMessage('pool [total=10, idle=0]')).toBe('pool [total=<num>, idle=<num>]');
    // A collection's name before it (Scala's Set(…), Kafka's partitions): the same.
    expect(maskMessage('Removed fetcher for partitions Set(orders-0, clickstream-3, inventory.updates-1) (kafka.server.ReplicaFetcherManager)')).toBe('Removed fetcher for partitions Set(<*>) (kafka.server.ReplicaFetcherManager)');
    expect(maskMessage('partitions Set(orders-3, orders-1)')).toBe(maskMessage('partitions Set(orders-7)'));
    expect(maskMessage('x [a, b(c), d]')).toBe('x [a, b(c), d]');
    expect(maskMessage('Nested [[a, b], [c, d]] done')).toMatch(/^Nested \[\[a, b\], /);
    expect(maskMessage('Map(a -> b, c -> d)')).toBe('Map(a -> b, c -> d)');
    // An item saying how something went keeps the list's words (an outside tester's lines).
    expect(maskMessage('Checks [ok, timeout, ok]')).not.toBe(maskMessage('Checks [ok, denied, ok]'));
    expect(maskMessage('errors [TimeoutException, NotLeaderForPartitionException]')).toContain('TimeoutException');
    expect(maskMessage('state ClusterState(Up, Reachable)')).not.toBe(maskMessage('state ClusterState(Down, Unreachable)'));
    expect(maskMessage('codes [SIGSEGV, SIGTERM]')).toContain('SIGSEGV');
    // … but capitals inside a random id are no code (Elasticsearch's node ids).
    expect(maskMessage('ids from [OckvEbTupRUdmsHxFFATl8, BRX6hw8jskB_OnlkZt1giV]')).toBe('ids from [<*>]');
  });
  it("a call's one quoted word is a value (Python's repr of an exception), unless it says how something went", () => {
    expect(maskMessage("Received UnknownJailException('sshd')")).toBe("Received UnknownJailException('<*>')");
    expect(maskMessage("Received UnknownJailException('apache').")).toBe("Received UnknownJailException('<*>').");
    expect(maskMessage('lookup KeyError("user_id"),')).toBe('lookup KeyError("<*>"),');
    expect(maskMessage("payment Result('declined')")).toBe("payment Result('declined')");
    // Other calls' arguments are often codes: they stay (a third outside tester's lines).
    expect(maskMessage("upload ClientError('AccessDenied')")).not.toBe(maskMessage("upload ClientError('NoSuchBucket')"));
    expect(maskMessage("charge CardError('insufficient_funds')")).toContain('insufficient_funds');
    expect(maskMessage("call f('a b')")).toBe("call f('a b')");
  });
  it('an HTTP method in parentheses is a value (the request\'s); elsewhere it stays', () => {
    expect(maskMessage('Method Not Allowed (DELETE): /api/orders/64836/')).toBe(maskMessage('Method Not Allowed (POST): /accounts/profile/'));
    expect(maskMessage('Method Not Allowed (DELETE): /api/orders/64836/')).toBe('Method Not Allowed (<*>): <path>');
    expect(maskMessage('"GET /v2/servers HTTP/1.1" status: 200')).toContain('GET');
    expect(maskMessage('mode (READONLY) set')).toBe('mode (READONLY) set');
  });
  it("a name's unquoted value at the end of key=value pairs runs to the end of the message", () => {
    const jdbc = maskMessage('connection authorized: user=app database=shop application_name=PostgreSQL JDBC Driver');
    expect(jdbc).toBe('connection authorized: user=app database=shop application_name=<*>');
    expect(maskMessage('connection authorized: user=app database=shop application_name=pgAdmin 4 - DB:orders')).toBe(jdbc);
    // The sentence going on, a failure, another key, or no pairs before it: not a name.
    expect(maskMessage('start proc=1 name=com.x/.Main) called by com.android.server')).toContain('called by');
    expect(maskMessage('user=a name=Backup Job failed')).toContain('failed');
    expect(maskMessage('user=a name=Backup Job state=done')).toContain('state=');
    expect(maskMessage('Job name=Nightly Backup')).toContain('Nightly');
    // A verdict after the name is no part of it; only `…_name` keys run on.
    for (const end of ['Healthy', 'OutOfMemoryError', 'SIGKILL', 'NXDOMAIN', '503']) {
      expect(maskMessage(`level=info msg=probe service_name=Payment Service ${end}`), end).not.toMatch(/service_name=<\*>$/);
    }
    expect(maskMessage('level=info msg=probe app=Payment Service Dead')).toContain('Dead');
  });
  it('an SQL statement inside a message is one value: after query up to its ;, or in quotes past its own literals', () => {
    const a = maskMessage('Read 10 live rows and 5000 tombstone cells for query SELECT * FROM shop.carts WHERE id = 7 LIMIT 100; token 42 (see tombstone_warn_threshold)');
    expect(a).toBe('Read <num> live rows and <num> tombstone cells for query <*>; token <num> (see tombstone_warn_threshold)');
    expect(maskMessage('Read 1 live rows and 2 tombstone cells for query SELECT event_time, payload FROM metrics.events WHERE day = \'2024-03-12\' LIMIT 5000; token 9 (see tombstone_warn_threshold)')).toBe(a);
    expect(maskMessage("Scanned over 100001 tombstones during query 'SELECT a, b FROM m.e WHERE day = '2024-03-12' AND k = 'a b' LIMIT 5000' (last token 5); query aborted")).toBe("Scanned over <num> tombstones during query '<*>' (last token <num>); query aborted");
    // Not: an HTTP request in quotes, a verb not after query, a failure inside, no end.
    expect(maskMessage('proxy sent "DELETE /api/orders/7 HTTP/1.1" upstream')).toContain('DELETE');
    expect(maskMessage('the SELECT button; pressed')).toContain('SELECT button;');
    expect(maskMessage('for query SELECT * FROM t WHERE x = 1 failed; token 3')).toContain('failed');
    expect(maskMessage('for query SELECT * FROM t')).toContain('FROM');
    // How it went before the `;` stays (a third outside tester's lines); SQL's own SET / END do not count.
    expect(maskMessage('ran query SELECT * FROM orders WHERE id = 5 committed; conn 7')).not.toBe(maskMessage('ran query SELECT * FROM orders WHERE id = 5 NOT OK; conn 7'));
    expect(maskMessage('ran query UPDATE stock SET qty = 0 WHERE sku = 5; conn 7')).toBe('ran query <*>; conn <num>');
    expect(maskMessage('Query: SELECT 1 cancelled by user')).not.toBe(maskMessage('Query: SELECT 1 completed'));
    // A quoted statement ending in a literal of its own.
    expect(maskMessage("Scanned over 100001 tombstones during query 'SELECT * FROM ks.t WHERE k = 'abc'' (last token 42); query aborted")).toBe("Scanned over <num> tombstones during query '<*>' (last token <num>); query aborted");
  });
  it("an SSH key's type and fingerprint are one value", () => {
    const rsa = maskMessage('Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2: RSA SHA256:kT3xq1wz9Yb0uQk4Zl5mW2e7n8r6s1t0v9y8x7w6u5');
    expect(rsa).toBe('Accepted publickey for deploy from <ip> port <num> <*>: <*>');
    expect(maskMessage('Accepted publickey for deploy from 10.0.0.6 port 40022 ssh2: ED25519 SHA256:Zq9+ab/cd')).toBe(rsa);
    expect(maskMessage('Accepted publickey for deploy from 10.0.0.7 port 40023 ssh2: ECDSA SHA256:Zq9+ab/ce')).toBe(rsa);
    // not a key type alone
    expect(maskMessage('cipher RSA selected')).toBe('cipher RSA selected');
  });
  it('a number after a bound is a number (`<1 sec` is a duration like `3 sec`)', () => {
    expect(maskMessage('lifetime <1 sec')).toBe('lifetime <duration>');
    expect(maskMessage('lifetime <1 sec')).toBe(maskMessage('lifetime 3 sec'));
    expect(maskMessage('took ~5 ms, >10 KB')).toBe('took <duration>, <size>');
  });
  it('terminal colour codes are no part of the template', () => {
    expect(maskMessage('\x1b[31mERROR\x1b[0m payment failed for order 12')).toBe(maskMessage('ERROR payment failed for order 13'));
    expect(maskMessage('\x1b[1;32mINFO\x1b[0m started in 3s')).toBe('INFO started in <duration>');
  });

  it('a placeholder already in the text keeps its closing bracket', () => {
    expect(maskMessage('GET /api/v1/orders/<*> 502')).toBe('GET <path> 5xx');
    expect(maskMessage('route /users/<id> matched')).toBe('route <path> matched');
  });

  it('a Kubernetes generated name keeps its base: the random suffix and the pod-template hash are values', () => {
    expect(maskMessage('MountVolume.SetUp succeeded for volume "kube-api-access-bwqgf"')).toBe('MountVolume.SetUp succeeded for volume "kube-api-access-<*>"');
    expect(maskMessage('pod=default/coredns-sjllrhkmql-254sn')).toBe(maskMessage('pod=default/coredns-5d78c9869d-x2k4p'));
    expect(maskMessage('Killing web-7fd8b6f5c9-x2k4p')).toBe('Killing web-<*>-<*>');
    // words stay: no random suffix, vowels, or fewer than two hyphens
    for (const w of ['nginx-ingress-controller', 'x-forwarded-for', 'proxy-https', 'kube-system', 'cert-manager-webhook']) expect(maskMessage(w)).toBe(w);
  });

  it('a stack frame\'s call site is one value, whatever its location', () => {
    const frames = [
      '\tat com.acme.shop.OrderService.process(OrderService.java:42)',
      'at org.apache.catalina.core.StandardWrapperValve$1.invoke(StandardWrapperValve.kt:7)',
      'at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
      'at java.lang.Thread.run(Unknown Source)',
      'at com.acme.Foo$$EnhancerBySpringCGLIB$$1f2a3b4c.call(<generated>)',
      '\tat java.base/java.lang.Thread.run(Thread.java:1583)',
      'at app//com.acme.shop.OrderService.process(OrderService.java:42)',
      'at java.base@17.0.2/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)',
      'at org.elasticsearch.action.Foo.bar(Foo.java:42) ~[elasticsearch-7.17.0.jar:7.17.0]',
      'at org.elasticsearch.Foo$$Lambda$1234/0x0000000800e5e2a8.apply(Unknown Source) ~[?:?]',
      'at java.lang.Thread.run(Thread.java:833) [?:?]',
      'at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method) ~[na:1.8.0_292]',
    ];
    for (const f of frames) expect(maskMessage(f)).toBe('at <*>');
    // calls that are no frame keep their text
    expect(maskMessage('workerEnv.init() ok /etc/httpd/conf/workers2.properties')).toBe('workerEnv.init() ok <path>');
    expect(maskMessage('jk2_init() Found child 6725 in scoreboard slot 10')).toBe('<*>_init() Found child <num> in scoreboard slot <num>');
    expect(maskMessage('call foo(Native Method)')).toBe('call foo(Native Method)');
  });
});
