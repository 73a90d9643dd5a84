// The one way StackLens compares a secret someone presents (a token, a signature) with the
// one it expects: both hashed first, then compared in constant time — so neither the content
// nor the length of the expected value leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';

export const secretDigest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(secretDigest(given), secretDigest(expected));
}
