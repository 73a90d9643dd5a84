// Schema pieces shared by agent.yaml and collector.yaml.
import { z } from 'zod';
import { parseBytes, parseDuration } from './units.js';

function convertedBy(parse: (v: string | number) => number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * What a config file must write with a unit (meta `unit`): parseYamlConfig refuses a bare
 * number there (`tick: 250` — 250 what?). Settings stored through the admin API are JSON
 * the collector wrote itself (milliseconds, bytes) and are read back as numbers.
 */
export type ConfigUnit = 'duration' | 'size';

/** A size such as 1MiB or 512kb, as bytes. */
export const byteSize = () => convertedBy(parseBytes).meta({ unit: 'size' satisfies ConfigUnit });
/** A duration such as 250ms or 5m, as milliseconds. */
export const durationMs = () => convertedBy(parseDuration).meta({ unit: 'duration' satisfies ConfigUnit });
export const httpUrl = () => z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL');
