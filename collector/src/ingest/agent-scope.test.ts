import { describe, expect, it } from 'vitest';
import { createLogger } from '@stacklens/common';
import type { AgentPrincipal } from '../security/principals.js';
import { AgentScope, agentIdRefusal } from './agent-scope.js';
import { DataStreamQuota, RECHECK_MS, REFRESH_MS } from './data-stream-quota.js';
import { docId, docIdPrefix, ID_PREFIX_CHARS } from './event-ids.js';

const log = createLogger('agent-scope-test', 'silent');
const principal = (over: Partial<AgentPrincipal> = {}): AgentPrincipal => ({ kind: 'agent', name: 'pos-agents', agents: ['pos-*'], datasets: ['pos'], maxDataStreams: 3, idNamespace: 'token:pos-agents', ...over });

/** A data-stream listing stand-in: `streams` is what the cluster has; counts the listings. */
function cluster(streams: string[] = [], fail = false) {
  const c = {
    streams,
    listings: 0,
    fail,
    es: {
      indices: {
        resolveIndex: async () => {
          c.listings++;
          if (c.fail) throw new Error('connect ECONNREFUSED');
          return { data_streams: c.streams.map((name) => ({ name })) };
        },
      },
    } as never,
  };
  return c;
}

describe('event ids', () => {
  it('are namespaced by principal and agent, deterministic, and keep the event id readable', () => {
    const a = docIdPrefix('pos-agents', 'pos-1');
    expect(a).toHaveLength(ID_PREFIX_CHARS);
    expect(docIdPrefix('pos-agents', 'pos-1')).toBe(a);
    expect(docId(a, 'abc.1f')).toBe(`${a}.abc.1f`);
    // Another token with the same agent id, or another agent of the same token: other ids.
    expect(docIdPrefix('chat-agents', 'pos-1')).not.toBe(a);
    expect(docIdPrefix('pos-agents', 'pos-2')).not.toBe(a);
  });

  it('stay within 512 bytes whatever the event id, hashing only ids that would not fit', () => {
    const p = docIdPrefix('t', 'a');
    const fits = 'x'.repeat(512 - ID_PREFIX_CHARS - 1);
    expect(docId(p, fits)).toBe(`${p}.${fits}`);
    for (const long of [`${fits}y`, 'é'.repeat(256), '😀'.repeat(128)]) {
      const id = docId(p, long);
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(512);
      expect(id).toMatch(new RegExp(`^${p.replace(/[-]/g, '\\-')}:[\\w-]{43}$`));
      expect(docId(p, long)).toBe(id);
    }
    expect(docId(p, 'é'.repeat(256))).not.toBe(docId(p, 'é'.repeat(255)));
    // Multi-byte ids that fit stay literal.
    expect(docId(p, 'é'.repeat(200))).toBe(`${p}.${'é'.repeat(200)}`);
  });
});

describe('agent ids', () => {
  it('must match the token\'s agents patterns', () => {
    expect(agentIdRefusal(principal(), 'pos-1')).toBeUndefined();
    expect(agentIdRefusal(principal({ agents: ['*'] }), 'anything')).toBeUndefined();
    expect(agentIdRefusal(principal(), 'chat-1')).toBe('agent token "pos-agents" may not send as agent "chat-1" (its agents: pos-*)');
    expect(agentIdRefusal(principal(), 'xpos-1')).toBeDefined();
    expect(agentIdRefusal(principal({ agents: ['pos.1'] }), 'posx1')).toBeDefined();
  });
});

describe('AgentScope', () => {
  it('refuses datasets outside the token\'s patterns, naming the dataset and the token', () => {
    const scope = new AgentScope(principal({ datasets: ['pos', 'web.*'] }), 'pos-1', new DataStreamQuota(cluster().es), () => log);
    expect(scope.datasetRefusal('pos')).toBeUndefined();
    expect(scope.datasetRefusal('web.access')).toBeUndefined();
    expect(scope.datasetRefusal('chatbot')).toEqual({ type: 'dataset_not_allowed', reason: 'agent token "pos-agents" may not write dataset chatbot (its datasets: pos, web.*)' });
  });
});

describe('DataStreamQuota', () => {
  it('lets a token create max_data_streams new data streams; existing ones are free', async () => {
    const c = cluster(['logs-pos-default', 'logs-pos-old']);
    const quota = new DataStreamQuota(c.es);
    const p = principal();
    for (const s of ['logs-pos-default', 'logs-pos-old', 'logs-pos-a', 'logs-pos-b', 'logs-pos-c', 'logs-pos-a']) expect(await quota.admit(p, s, () => log)).toBeUndefined();
    expect(quota.createdBy('pos-agents')).toBe(3);
    expect(await quota.admit(p, 'logs-pos-d', () => log)).toBe('logs-pos-d would be a new data stream, and agent token "pos-agents" has already created its max_data_streams (3)');
    // Another token: its own count; a stream the first one created is not new to it.
    const other = principal({ name: 'other', maxDataStreams: 1 });
    expect(await quota.admit(other, 'logs-pos-a', () => log)).toBeUndefined();
    expect(await quota.admit(other, 'logs-pos-e', () => log)).toBeUndefined();
    expect(await quota.admit(other, 'logs-pos-f', () => log)).toMatch(/max_data_streams \(1\)/);
  });

  it('lists the cluster\'s data streams once, again after REFRESH_MS, and before refusing at most every RECHECK_MS', async () => {
    let now = 1_000_000;
    const c = cluster(['logs-pos-default']);
    const quota = new DataStreamQuota(c.es, () => now);
    const p = principal({ maxDataStreams: 1 });
    await Promise.all([quota.admit(p, 'logs-pos-default', () => log), quota.admit(p, 'logs-pos-x', () => log)]);
    expect(c.listings).toBe(1);
    // At the cap: a stream someone else just created is found by a re-listing, not refused.
    c.streams.push('logs-pos-made-elsewhere');
    now += RECHECK_MS;
    expect(await quota.admit(p, 'logs-pos-made-elsewhere', () => log)).toBeUndefined();
    expect(c.listings).toBe(2);
    // Refusals re-list at most every RECHECK_MS.
    expect(await quota.admit(p, 'logs-pos-y', () => log)).toBeDefined();
    expect(await quota.admit(p, 'logs-pos-z', () => log)).toBeDefined();
    expect(c.listings).toBe(2);
    now += REFRESH_MS;
    c.streams.push('logs-pos-new');
    expect(await quota.admit(principal({ name: 'fresh' }), 'logs-pos-new', () => log)).toBeUndefined();
    expect(c.listings).toBe(3);
    expect(quota.createdBy('fresh')).toBe(0);
  });

  it('cannot be passed by concurrent requests of one token', async () => {
    const quota = new DataStreamQuota(cluster().es);
    const p = principal({ maxDataStreams: 2 });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => quota.admit(p, `logs-pos-n${i}`, () => log)));
    expect(answers.filter((a) => a === undefined)).toHaveLength(2);
  });

  it('answers ElasticsearchUnavailable while the data streams were never listed; later uses the last listing', async () => {
    const c = cluster(['logs-pos-default'], true);
    let now = 0;
    const quota = new DataStreamQuota(c.es, () => now);
    await expect(quota.admit(principal(), 'logs-pos-default', () => log)).rejects.toThrow(/cannot list the data streams/);
    c.fail = false;
    expect(await quota.admit(principal(), 'logs-pos-default', () => log)).toBeUndefined();
    c.fail = true;
    now += REFRESH_MS;
    expect(await quota.admit(principal(), 'logs-pos-default', () => log)).toBeUndefined();
    expect(await quota.admit(principal(), 'logs-pos-q', () => log)).toBeUndefined();
  });
});
