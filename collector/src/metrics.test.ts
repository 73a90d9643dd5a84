import { describe, expect, it } from 'vitest';
import { CollectorMetrics } from './metrics.js';

describe('CollectorMetrics gauges', () => {
  it('a gauge whose read fails (an Elasticsearch search during a node loss) leaves only its own series out of the scrape', async () => {
    const m = new CollectorMetrics();
    m.gauge('test_ok_gauge', 'reads fine', [], (set) => set({}, 7));
    m.gauge('test_failing_gauge', 'its read fails', ['kind'], async () => {
      throw new Error('no_shard_available_action_exception');
    });
    const text = await m.registry.metrics();
    expect(text).toMatch(/^test_ok_gauge 7$/m);
    expect(text).not.toMatch(/^test_failing_gauge\{/m);
    expect(m.gaugeReadFailures).toBe(1);
  });
});
