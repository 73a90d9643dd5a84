import { describe, expect, it } from 'vitest';
import { outcomesDiffer } from './outcome-words.js';
import { TemplateMiner } from './miner.js';

describe('outcome words', () => {
  it('a failure word against any other word, or two different state words, differ', () => {
    expect(outcomesDiffer('passed', 'failed')).toBe(true);
    expect(outcomesDiffer('established', 'lost')).toBe(true);
    expect(outcomesDiffer('Starting', 'Stopped')).toBe(true);
    expect(outcomesDiffer('level=info', 'level=error')).toBe(true);
    expect(outcomesDiffer('set', 'cleared')).toBe(true); // an alarm raised and an alarm cleared: two incidents' worth
    expect(outcomesDiffer('"succeeded",', '"failed",')).toBe(true);
    expect(outcomesDiffer('admin', 'failed')).toBe(true);
    // values: user names, tables, hosts
    expect(outcomesDiffer('admin', 'oracle')).toBe(false);
    expect(outcomesDiffer('info', 'admin')).toBe(false);
    expect(outcomesDiffer('Failed', 'failed')).toBe(true); // two spellings: never one <*> that `passed` could fill
    expect(outcomesDiffer('Admin', 'admin')).toBe(false);
    expect(outcomesDiffer('node-1', 'failed')).toBe(false);
    expect(outcomesDiffer('', 'failed')).toBe(false);
    // a word and its negation (Vault's `vault is sealed` / `… unsealed` were one template)
    expect(outcomesDiffer('sealed', 'unsealed')).toBe(true);
    expect(outcomesDiffer('disconnected.', 'connected.')).toBe(true);
    expect(outcomesDiffer('reachable', 'unreachable')).toBe(true);
    expect(outcomesDiffer('deactivated', 'activated')).toBe(true);
    expect(outcomesDiffer('undo', 'do')).toBe(false); // too short to tell
    expect(outcomesDiffer('index', 'dex')).toBe(false);
  });

  it('the first failure after a run of successes is a template of its own, whatever the order', () => {
    for (const successes of [1, 3, 10, 40]) {
      const m = new TemplateMiner();
      const ok = Array.from({ length: successes }, (_, i) => m.match(`Health check passed for backend api-${i}`).id);
      const failed = m.match('Health check failed for backend api-7');
      expect(new Set(ok).size).toBe(1);
      expect(failed.id, `after ${successes}`).not.toBe(ok[0]);
      expect(m.match('Health check passed for backend api-9').id).toBe(ok[0]);
    }
    const m = new TemplateMiner();
    const info = m.match('time="2024-11-16T10:00:01Z" level=info msg="shim disconnected" id=12');
    expect(m.match('time="2024-11-16T10:00:02Z" level=error msg="shim disconnected" id=13').id).not.toBe(info.id);
    // The message of a logfmt line is words, not one quoted value.
    const pull = m.match('time="2024-11-16T10:00:03Z" level=info msg="Attempting next endpoint for pull after error" id=14');
    expect(m.match('time="2024-11-16T10:00:04Z" level=info msg="shim disconnected" id=15').id).not.toBe(pull.id);
    expect(m.match('time="2024-11-16T10:00:05Z" level=info msg="Attempting next endpoint for pull after error" id=16').id).toBe(pull.id);
    // A user name is still a value.
    const a = m.match('Connection to database orders established');
    expect(m.match('Connection to database payments established').id).toBe(a.id);
    expect(m.match('Connection to database orders lost').id).not.toBe(a.id);
  });

  it('a failure never joins a slot that other words made a value, and a logfmt error is words', () => {
    const m = new TemplateMiner();
    const pending = m.match('pod default/web-1 phase=Pending');
    expect(m.match('pod default/web-2 phase=Running').id).not.toBe(pending.id); // two states
    const alpha = m.match('replica web-1 zone=alpha');
    expect(m.match('replica web-2 zone=beta').id).toBe(alpha.id);
    expect(m.match('replica web-3 zone=unreachable').id).not.toBe(alpha.id);
    const east = m.match('Health check for db1 in eu-east passed');
    expect(m.match('Health check for db2 in eu-west passed').id).toBe(east.id);
    expect(m.match('Health check for db3 in timeout passed').id).not.toBe(east.id);
    const refused = m.match('ts=1 level=error msg="failed to sync pod" pod=default/web-1 err="dial tcp 10.0.0.1:5432: connect: connection refused"');
    expect(m.match('ts=2 level=error msg="failed to sync pod" pod=default/web-2 err="context deadline exceeded"').id).not.toBe(refused.id);
    expect(m.match('ts=3 level=error msg="failed to sync pod" pod=default/web-3 err="dial tcp 10.0.0.9:5432: connect: connection refused"').id).toBe(refused.id);
    // The value of a key that says how it went is an outcome (success=true / success=false) …
    const charged = m.match('charge processed order_id=1001 amount=12.50 terminal=T-104 success=true');
    expect(m.match('charge processed order_id=1002 amount=7.00 terminal=T-105 success=false').id).not.toBe(charged.id);
    expect(m.match('charge processed order_id=1003 amount=9.00 terminal=T-106 success=true').id).toBe(charged.id);
    // … other booleans are values: one template for every combination.
    const a = m.match('level=info msg="served request" cached=true sampled=false tls=on');
    expect(m.match('level=info msg="served request" cached=false sampled=true tls=off').id).toBe(a.id);
  });

  it('an HTTP status of a status key keeps its class: a 5xx never shares a template with a 2xx', () => {
    const m = new TemplateMiner();
    const ok = m.match('level=info msg="request done" path=/a status=200 dur=3ms');
    expect(ok.template).toContain('status=2xx');
    expect(m.match('level=info msg="request done" path=/b status=201 dur=4ms').id).toBe(ok.id);
    const failed = m.match('level=info msg="request done" path=/c status=503 dur=4ms');
    expect(failed.id).not.toBe(ok.id);
    expect(m.match('level=info msg="request done" path=/d status=504 dur=40ms').id).toBe(failed.id);
    // Other numbers of a status key, and other keys, are numbers as before.
    expect(m.match('job done status=1 after 3 tries').template).toBe('job done status=<num> after <num> tries');
    expect(m.match('exit code=503 seen').template).toBe('exit code=<num> seen');
  });
});


describe('on and off', () => {
  it('as words of the text are two states; as the value of a key, a setting like true/false', () => {
    const m = new TemplateMiner();
    const on = m.match('BTLE scanner Powered On').id;
    expect(m.match('BTLE scanner Powered Off').id).not.toBe(on);
    expect(m.match('BTLE scanner Powered On').id).toBe(on);
    const a = m.match('request served tls=on cache=hit').id;
    expect(m.match('request served tls=off cache=hit').id).toBe(a);
  });
});

describe('exception and error types', () => {
  it('two different types are two templates (as Sentry groups by type); other class names are values', () => {
    const m = new TemplateMiner();
    const npe = m.match('Exception in thread "main" java.lang.NullPointerException: null').id;
    expect(m.match('Exception in thread "main" java.lang.IllegalStateException: null').id).not.toBe(npe);
    expect(m.match('Exception in thread "main" java.lang.NullPointerException: null').id).toBe(npe);
    expect(m.match('failed: KeyError: bad input').id).not.toBe(m.match('failed: ValueError: bad input').id);
    const svc = m.match('Loading class com.acme.OrderService').id;
    expect(m.match('Loading class com.acme.PriceService').id).toBe(svc);
    // A slot that other values made never takes an error type.
    for (const x of ['com.acme.A', 'com.acme.B', 'com.acme.C']) m.match(`handler ${x} registered`);
    expect(m.match('handler com.acme.ConfigurationError registered').id).not.toBe(m.match('handler com.acme.D registered').id);
  });
});
