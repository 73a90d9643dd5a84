// The Slack replay guard against the real Elasticsearch (e2e tier: *.es.test.ts).
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { describe, expect, inject, it } from 'vitest';
import { installTemplates } from '@stacklens/elasticsearch';
import { createLogger } from '@stacklens/common';
import { SLACK_REPLAY_INDEX, SlackReplayGuard } from './replay-guard.js';

const es = new Client({ node: inject('esUrl') });
const log = createLogger('test', 'silent');

describe('Slack replay guard (Elasticsearch)', () => {
  it('accepts a signature once across guards (collectors, restarts), again after forget, and cleans up past the window', async () => {
    await installTemplates(es);
    const now = Math.floor(Date.now() / 1000);
    const sig = `v0=${randomBytes(32).toString('hex')}`;
    const a = new SlackReplayGuard(es, log);
    const b = new SlackReplayGuard(es, log); // another collector, or this one restarted
    expect(await a.claim(sig, now)).toBe('fresh');
    expect(await b.claim(sig, now)).toBe('replayed');
    expect(await a.claim(sig, now)).toBe('replayed');
    await a.forget(sig);
    expect(await b.claim(sig, now)).toBe('fresh');

    // A record whose request time is past the 5-minute window goes at the next clean-up.
    const old = `v0=${randomBytes(32).toString('hex')}`;
    expect(await a.claim(old, now - 10 * 60)).toBe('fresh');
    await es.indices.refresh({ index: SLACK_REPLAY_INDEX });
    const sweeper = new SlackReplayGuard(es, log);
    await sweeper.claim(`v0=${randomBytes(32).toString('hex')}`, now); // claims trigger the clean-up
    await expect
      .poll(async () => {
        await es.indices.refresh({ index: SLACK_REPLAY_INDEX });
        return (await es.count({ index: SLACK_REPLAY_INDEX, query: { range: { '@timestamp': { lt: new Date((now - 7 * 60) * 1000).toISOString() } } } })).count;
      }, { timeout: 10_000 })
      .toBe(0);
    expect(await b.claim(sig, now)).toBe('replayed'); // fresh records stay
  });
});
