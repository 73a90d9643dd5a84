// Card redaction against corpora: real log lines and tricky log shapes must pass unchanged
// (a masked block id or timestamp is corrupted data), and the public test card numbers of
// every issuer, in the formats they are logged in, must all be masked.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Redactor, REDACT_DEFAULTS } from './redact.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = path.join(repoRoot, 'test', 'fixtures', 'redaction');
// The dev set lives beside the repository (shared between checkouts), not in it.
const loghub = path.resolve(repoRoot, '..', 'shared', 'datasets', 'loghub-2k-dev');

/** Lines of a fixture, without "#" comments and blank lines. */
function fixtureLines(name: string): string[] {
  return readFileSync(path.join(fixtures, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/** Lines the default redactor changes, as [line number, before, after]. */
function changed(lines: string[]): Array<[number, string, string]> {
  const r = new Redactor(REDACT_DEFAULTS);
  const out: Array<[number, string, string]> = [];
  lines.forEach((line, i) => {
    const after = r.redact(line);
    if (after !== line) out.push([i + 1, line, after]);
  });
  return out;
}

describe('card redaction does not corrupt ordinary log lines', () => {
  it('leaves every line of test/fixtures/redaction/negatives.txt unchanged', () => {
    const lines = fixtureLines('negatives.txt');
    expect(lines.length).toBeGreaterThan(30);
    expect(changed(lines)).toEqual([]);
  });

  const systems = existsSync(loghub) ? readdirSync(loghub).filter((d) => existsSync(path.join(loghub, d, `${d}_2k.log`))) : [];
  it('finds the LogHub 2k dev set', (ctx) => {
    ctx.skip(systems.length === 0, `LogHub 2k dev set not found at ${loghub}: the real-log corpus is not checked`);
    expect(systems.length).toBe(8);
  });
  for (const system of systems) {
    it(`leaves all 2,000 ${system} lines of the LogHub 2k dev set unchanged`, () => {
      const lines = readFileSync(path.join(loghub, system, `${system}_2k.log`), 'utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      expect(lines.length).toBe(2000);
      expect(changed(lines)).toEqual([]);
    });
  }
});

describe('card redaction masks card numbers', () => {
  // In cards.txt each <<…>> marks one card number.
  const cases = fixtureLines('cards.txt').map((marked) => ({
    marked,
    input: marked.replace(/<<|>>/g, ''),
    expected: marked.replace(/<<(.*?)>>/g, (_m, card: string) => `[REDACTED-CARD-${card.replace(/\D/g, '').slice(-4)}]`),
    cards: marked.split('<<').length - 1,
  }));

  it('masks every marked card of test/fixtures/redaction/cards.txt, and only those, counting each', () => {
    expect(cases.length).toBeGreaterThan(30);
    const r = new Redactor(REDACT_DEFAULTS);
    const wrong = cases.filter((c) => r.redact(c.input) !== c.expected).map((c) => ({ input: c.input, expected: c.expected, got: new Redactor(REDACT_DEFAULTS).redact(c.input) }));
    expect(wrong).toEqual([]);
    expect(r.counts.card_numbers).toBe(cases.reduce((n, c) => n + c.cards, 0));
  });

  it('covers every issuer in the fixture', () => {
    const text = cases.map((c) => c.marked).join('\n');
    for (const prefix of ['<<4', '<<51', '<<222', '<<34', '<<37', '<<6011', '<<644', '<<65', '<<36', '<<30', '<<38', '<<35', '<<62', '<<50', '<<67', '<<2200']) {
      expect(text, `a card starting ${prefix.slice(2)}`).toContain(prefix);
    }
  });
});
