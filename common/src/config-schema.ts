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

/** A size such as 1MiB or 512kb, as bytes. */
export const byteSize = () => convertedBy(parseBytes);
/** A duration such as 250ms or 5m, as milliseconds. */
export const durationMs = () => convertedBy(parseDuration);
export const httpUrl = () => z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL');
