import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseYamlConfig, ConfigError, closest } from './config-file.js';
import { parseBytes, parseDuration } from './units.js';

const schema = z.strictObject({
  name: z.string(),
  inputs: z.array(z.strictObject({ format: z.enum(['pos', 'plain']), token: z.string().optional() })),
});

describe('parseYamlConfig', () => {
  it('expands ${VAR} and ${VAR:-default}', () => {
    const cfg = parseYamlConfig('name: ${NAME}\ninputs:\n  - format: pos\n    token: ${TOKEN:-fallback}\n', 'a.yaml', schema, { NAME: 'kiosk' });
    expect(cfg).toEqual({ name: 'kiosk', inputs: [{ format: 'pos', token: 'fallback' }] });
  });

  it('names file, line and key of an unset variable', () => {
    expect(() => parseYamlConfig('name: x\ninputs:\n  - format: pos\n    token: ${SECRET}\n', 'agent.yaml', schema, {})).toThrow(
      'agent.yaml:4: inputs[0].token: environment variable SECRET is not set',
    );
    expect(() => parseYamlConfig('name: x\ninputs:\n  - format: pos\n    token: ${SECRET}\n', 'agent.yaml', schema, { SECRET: '' })).toThrow(
      'agent.yaml:4: inputs[0].token: environment variable SECRET is empty',
    );
  });

  it('names file, line and key of a bad value, an unknown key and a missing key', () => {
    let error: unknown;
    try {
      parseYamlConfig('inputs:\n  - format: csv\n    colour: red\n', 'agent.yaml', schema, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('agent.yaml:2: inputs[0].format:');
    expect(message).toContain('agent.yaml:3: inputs[0]: unknown key "colour"');
    expect(message).toContain('name: is required');
  });

  it('reports invalid YAML with its line', () => {
    expect(() => parseYamlConfig('name: x\ninputs: [\n', 'bad.yaml', schema, {})).toThrow(/^bad\.yaml:\d+: invalid YAML/);
  });
});

describe('units', () => {
  it('parses sizes and durations', () => {
    expect(parseBytes('1MiB')).toBe(1048576);
    expect(parseBytes('10mb')).toBe(10_000_000);
    expect(parseBytes(42)).toBe(42);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1m')).toBe(60_000);
    expect(() => parseBytes('lots')).toThrow('not a size: "lots"');
    expect(() => parseDuration('soon')).toThrow('not a duration: "soon"');
  });
});

describe('every problem in one pass', () => {
  const schema = z.strictObject({ listen: z.string(), token: z.string().min(1), detection: z.strictObject({ tick: z.string().optional(), schedule: z.string().optional() }).optional() });
  it('schema errors first, in the file\'s order, with "did you mean", then unset environment variables', () => {
    let message = '';
    try {
      parseYamlConfig('token: ${NOT_SET_ANYWHERE}\ndetection:\n  tik: 250ms\nlistn: x\n', 'c.yaml', schema, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'c.yaml:1: listen: is required (string)',
      'c.yaml:3: detection: unknown key "tik" (did you mean "tick"?)',
      'c.yaml:4: (top level): unknown key "listn" (did you mean "listen"?)',
      'c.yaml:1: token: environment variable NOT_SET_ANYWHERE is not set',
    ]);
  });
  it('no suggestion when nothing is near', () => {
    expect(closest('frobnicate', ['listen', 'token'])).toBeUndefined();
    expect(closest('ADMIN-TOKENS', ['admin_tokens'])).toBe('admin_tokens');
  });
});

describe('units', () => {
  it('a duration or a size written as a bare number is refused with the unit to add', async () => {
    const { durationMs, byteSize } = await import('./config-schema.js');
    const schema = z.strictObject({ tick: durationMs().default(250), max_bytes: byteSize().optional(), inputs: z.array(z.strictObject({ timeout: durationMs().optional() })).default([]) });
    expect(parseYamlConfig('tick: 250ms\nmax_bytes: 1MiB\ninputs:\n  - timeout: 0\n', 'c.yaml', schema, {})).toEqual({ tick: 250, max_bytes: 1024 * 1024, inputs: [{ timeout: 0 }] });
    let message = '';
    try {
      parseYamlConfig('tick: 250\nmax_bytes: "4096"\ninputs:\n  - timeout: 30\n', 'c.yaml', schema, {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'c.yaml:1: tick: 250 has no unit; write 250ms (or a duration such as 5s, 1m)',
      'c.yaml:2: max_bytes: 4096 has no unit; write 4096B (or a size such as 64KiB, 1MiB)',
      'c.yaml:4: inputs[0].timeout: 30 has no unit; write 30ms (or a duration such as 5s, 1m)',
    ]);
  });
});
