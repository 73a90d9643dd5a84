import { describe, expect, it } from 'vitest';
import { Replay } from './replay.js';
import { buildRule } from './rule.js';
import { ruleSchema } from './schema.js';

const rule = () => buildRule(ruleSchema.parse({ name: 'warnings-and-errors', severity: 'medium', dataset: 'plain', type: 'any', window: '1h', filter: { 'log.level': ['warn', 'error'] } }), 'rule.yml');
const event = (time: string, level: string, message: string) => ({ '@timestamp': `2024-03-12T08:00:${time}.000Z`, log: { level }, message });

describe('Replay', () => {
  it('an event older than one replayed before it (interleaved sources) is evaluated, not lost with the evaluation it moved', async () => {
    const replay = new Replay([rule()]);
    await replay.add(event('05', 'warn', 'Check is now critical: check=service:web-1'), 'logs-plain-default');
    await replay.add(event('00', 'error', 'recurse failed: error="read udp 10.0.0.11:5353->8.8.8.8:53: i/o timeout"'), 'logs-plain-default');
    await replay.add(event('01', 'error', 'recurse failed: error="read udp 10.0.0.11:5353->8.8.8.8:53: i/o timeout"'), 'logs-plain-default');
    await replay.add(event('06', 'info', 'Synced service: service=web-1'), 'logs-plain-default');
    const incidents = await replay.finish();
    expect(incidents.map((i) => [i.first_seen, i.count])).toEqual([
      ['2024-03-12T08:00:00.000Z', 2],
      ['2024-03-12T08:00:05.000Z', 1],
    ]);
  });

  it('in order, each event is evaluated at the end of its second', async () => {
    const replay = new Replay([rule()]);
    await replay.add(event('00', 'error', 'disk full on /var'), 'logs-plain-default');
    await replay.add(event('03', 'warn', 'queue depth high'), 'logs-plain-default');
    const incidents = await replay.finish();
    expect(incidents.map((i) => [i.first_seen, i.detected_at])).toEqual([
      ['2024-03-12T08:00:00.000Z', '2024-03-12T08:00:01.000Z'],
      ['2024-03-12T08:00:03.000Z', '2024-03-12T08:00:04.000Z'],
    ]);
  });
});
