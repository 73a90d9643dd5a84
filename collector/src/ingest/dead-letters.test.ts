import { describe, expect, it } from 'vitest';
import { deadLetter, InvalidEventLetters, DEADLETTER_STREAM } from './dead-letters.js';
import { capBytes } from './capped-text.js';

const ingested = '2024-11-16T10:30:00.000Z';
const invalid = (text: string, type = 'invalid_event') => {
  const bytes = Buffer.from(text);
  return { type, reason: `bad: ${text}`, bytes, original: () => capBytes(bytes, 32 * 1024) };
};

describe('InvalidEventLetters', () => {
  it('keeps the first `cap` invalid events one by one and counts the rest in one summary', () => {
    const letters = new InvalidEventLetters('agent-1', 3, ingested, 'scope-1');
    for (let i = 0; i < 10; i++) letters.add(invalid(`${i}`, i % 2 ? 'invalid_json' : 'invalid_event'));
    expect(letters.letters).toHaveLength(3);
    expect(letters.letters.map((l) => l.body.message)).toEqual(['0', '1', '2']);
    expect(letters.summarized).toBe(7);
    const summary = letters.summary()!;
    expect(summary.index).toBe(DEADLETTER_STREAM);
    expect(summary.body.error).toMatchObject({ type: 'dead_letters_capped' });
    expect((summary.body.error as { message: string }).message).toMatch(/^7 more invalid events in this request were not kept one by one \(ingest.max_dead_letters_per_request is 3\): invalid_json ×4, invalid_event ×3/);
    expect(summary.body.stacklens).toMatchObject({ stage: 'collector.validate', summarized: { events: 7, by_type: { invalid_json: 4, invalid_event: 3 } } });
    expect(summary.body.message).toBe('3'); // an example: the first event it stands for
  });

  it('gives the same request the same ids (a retry meets 409), and another request other ids', () => {
    const run = (texts: string[], scope = 'scope-1') => {
      const l = new InvalidEventLetters('agent-1', 1, ingested, scope);
      for (const t of texts) l.add(invalid(t));
      return [...l.letters.map((d) => d.id), l.summary()!.id];
    };
    expect(run(['a', 'b', 'c'])).toEqual(run(['a', 'b', 'c']));
    expect(run(['a', 'b', 'c'])[1]).not.toBe(run(['a', 'b', 'd'])[1]);
    // Another sender (token or agent): other ids, so no sender can take another's dead letters.
    const other = run(['a', 'b', 'c'], 'scope-2');
    expect(other.filter((id) => run(['a', 'b', 'c']).includes(id))).toEqual([]);
    expect(new InvalidEventLetters('a', 5, ingested, 's').summary()).toBeUndefined();
  });
});

describe('deadLetter', () => {
  it('keeps a log line whole in event.original, and at most 32 KiB of it in message', () => {
    const line = `${'é'.repeat(40_000)}!`;
    const d = deadLetter({ agentId: 'a', id: 'x', original: { text: line, truncated: false, bytes: 80_001 }, error: { type: 'pos.format', message: 'm' }, stage: 'agent.parse', ingested });
    expect((d.body.event as { original: string }).original).toBe(line);
    expect(Buffer.byteLength(d.body.message as string)).toBe(32 * 1024);
    expect(d.body.log).toBeUndefined();
  });


  it('keeps only source fields of the mapped type and a size Elasticsearch indexes', () => {
    const d = deadLetter({
      agentId: 'agent-1',
      id: 'x',
      original: { text: 'abc', truncated: true, bytes: 70_000 },
      error: { type: 'mapping', message: 'm' },
      stage: 'elasticsearch.index',
      target: { dataStream: 'logs-pos-default', dataset: 'pos' },
      source: { host: { name: { nested: 'object' } }, log: { file: { path: 'p'.repeat(50_000) }, offset: 12, flags: ['truncated', 5] } },
      ingested,
    });
    expect(d.body.host).toBeUndefined();
    expect(d.body.log).toEqual({ file: undefined, offset: 12, flags: ['truncated', 'original_truncated'] });
    expect(d.body).toMatchObject({
      message: 'abc',
      event: { original: 'abc', kind: 'pipeline_error' },
      stacklens: { stage: 'elasticsearch.index', target: { data_stream: 'logs-pos-default', dataset: 'pos' }, original_bytes: 70_000 },
    });
  });
});
