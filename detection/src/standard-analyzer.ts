// Elasticsearch's `standard` analyzer, which analyzes every `text` field of the StackLens
// templates (message, error.message): Lucene's StandardTokenizer — the word boundaries of
// Unicode UAX #29 — then a per-character lowercase. The offline rule evaluator must split
// text exactly where Elasticsearch does, or `match_phrase: "authentication failure"` means
// one thing in `stacklens rules test` and another in the collector.
//
// What UAX #29 means in practice (each checked against Elasticsearch's _analyze):
//   "auth-failure" → auth, failure         "don't", "O'Neil's", "foo.bar", "e.g" stay whole
//   "3.14", "1,000", "v1.2.3", "user:bob"  stay whole ("a:1" splits: ':' joins letters only)
//   "STORE_001", "_foo" → store_001, _foo  ('_' joins)   "日本" → 日, 本 (one token per Han
//   character, likewise Hiragana)   "カタカナ", "ภาษาไทย", "한국어" stay whole   emoji are tokens
//   tokens longer than 255 UTF-16 units are cut into pieces of 255.
// Known differences, all exotic (found by fuzzing against _analyze): a zero-width joiner
// after punctuation and before an emoji, a skin tone after a flag, a Hebrew letter with a
// quote mark next to a digit or a middle dot.

const MAX_TOKEN_LENGTH = 255;

// Word-break classes (UAX #29 table 3), plus the scripts Lucene emits in its own way.
const OTHER = 0;
const NEWLINE = 1; // CR, LF and other line breaks: nothing attaches to them
const EXTEND = 2; // combining marks, ZWNJ, halfwidth sound marks: belong to the preceding character
const ZWJ = 3;
const FORMAT = 4;
const REGIONAL_INDICATOR = 5;
const KATAKANA = 6;
const HEBREW_LETTER = 7;
const A_LETTER = 8;
const SINGLE_QUOTE = 9;
const DOUBLE_QUOTE = 10;
const MID_NUM_LET = 11;
const MID_LETTER = 12;
const MID_NUM = 13;
const NUMERIC = 14;
const EXTEND_NUM_LET = 15;
const HAN = 16;
const HIRAGANA = 17;
const SOUTHEAST_ASIAN = 18;
const PICTOGRAPHIC = 19;
const EMOJI_MODIFIER = 20; // skin tones: part of the word or emoji before them, else an emoji of their own

const classTable = (classes: number[]) => Uint8Array.from({ length: 32 }, (_, c) => (classes.includes(c) ? 1 : 0));
/** Classes whose presence makes a segment a token (the rest is punctuation and space). */
const TOKEN_CLASSES = [A_LETTER, HEBREW_LETTER, NUMERIC, KATAKANA, HAN, HIRAGANA, SOUTHEAST_ASIAN, PICTOGRAPHIC];
const IS_TOKEN_CLASS = classTable(TOKEN_CLASSES);
/** What a skin-tone modifier attaches to; after anything else Lucene emits it as an emoji. */
const MODIFIABLE = classTable([...TOKEN_CLASSES, EXTEND_NUM_LET]);

const MID_LETTER_CHARS = new Set([0x3a, 0xb7, 0x387, 0x55f, 0x5f4, 0x2027, 0xfe13, 0xfe55, 0xff1a]);
const MID_NUM_LET_CHARS = new Set([0x2e, 0x2018, 0x2019, 0x2024, 0xfe52, 0xff07, 0xff0e]);
const MID_NUM_CHARS = new Set([0x2c, 0x3b, 0x37e, 0x589, 0x60c, 0x60d, 0x66c, 0x7f8, 0x2044, 0xfe10, 0xfe14, 0xfe50, 0xfe54, 0xff0c, 0xff1b]);
const KATAKANA_EXTRA = new Set([0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x309b, 0x309c, 0x30a0, 0x30fc, 0xff70]);
const KEYCAP = 0x20e3;

const RE_MARK = /[\p{M}\p{Grapheme_Extend}]/u;
const RE_FORMAT = /\p{Cf}/u;
const RE_KATAKANA = /\p{Script=Katakana}/u;
const RE_HIRAGANA = /\p{Script=Hiragana}/u;
const RE_HAN = /\p{Script=Han}/u;
const RE_SOUTHEAST_ASIAN = /[\p{Script=Thai}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Khmer}\p{Script=Tai_Le}\p{Script=New_Tai_Lue}\p{Script=Tai_Tham}\p{Script=Tai_Viet}]/u;
const RE_HEBREW = /\p{Script=Hebrew}/u;
const RE_LETTER = /\p{L}/u;
const RE_DIGIT = /\p{Nd}/u;
const RE_CONNECTOR = /\p{Pc}/u;
const RE_ALPHABETIC = /\p{Alphabetic}/u;
const RE_PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

const ASCII_CLASSES = Array.from({ length: 128 }, (_, cp) => {
  const ch = String.fromCharCode(cp);
  if (/[A-Za-z]/.test(ch)) return A_LETTER;
  if (/[0-9]/.test(ch)) return NUMERIC;
  if (/[\n\r\v\f]/.test(ch)) return NEWLINE;
  if (ch === "'") return SINGLE_QUOTE;
  if (ch === '"') return DOUBLE_QUOTE;
  if (ch === '_') return EXTEND_NUM_LET;
  if (MID_NUM_LET_CHARS.has(cp)) return MID_NUM_LET;
  if (MID_LETTER_CHARS.has(cp)) return MID_LETTER;
  if (MID_NUM_CHARS.has(cp)) return MID_NUM;
  return OTHER;
});
const classCache = new Map<number, number>();

function wordBreakClass(cp: number): number {
  if (cp < 128) return ASCII_CLASSES[cp];
  let c = classCache.get(cp);
  if (c === undefined) {
    c = classifyNonAscii(cp);
    if (classCache.size < 10_000) classCache.set(cp, c);
  }
  return c;
}

function classifyNonAscii(cp: number): number {
  const ch = String.fromCodePoint(cp);
  if (cp === 0x85 || cp === 0x2028 || cp === 0x2029) return NEWLINE;
  if (cp === 0x200d) return ZWJ;
  if (cp >= 0x1f3fb && cp <= 0x1f3ff) return EMOJI_MODIFIER;
  if (cp === 0x200c || RE_MARK.test(ch)) return EXTEND;
  if (cp === 0x200b) return OTHER;
  if (RE_FORMAT.test(ch)) return FORMAT;
  if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return REGIONAL_INDICATOR;
  if (KATAKANA_EXTRA.has(cp) || RE_KATAKANA.test(ch)) return KATAKANA;
  if (RE_HIRAGANA.test(ch)) return HIRAGANA;
  if (RE_HAN.test(ch)) return HAN;
  if (MID_LETTER_CHARS.has(cp)) return MID_LETTER;
  if (MID_NUM_LET_CHARS.has(cp)) return MID_NUM_LET;
  if (MID_NUM_CHARS.has(cp)) return MID_NUM;
  if (RE_DIGIT.test(ch)) return NUMERIC;
  if (RE_SOUTHEAST_ASIAN.test(ch) && RE_LETTER.test(ch)) return SOUTHEAST_ASIAN;
  if (RE_HEBREW.test(ch) && RE_LETTER.test(ch)) return HEBREW_LETTER;
  if (cp === 0x202f || RE_CONNECTOR.test(ch)) return EXTEND_NUM_LET;
  if (RE_ALPHABETIC.test(ch)) return A_LETTER;
  if (RE_PICTOGRAPHIC.test(ch)) return PICTOGRAPHIC;
  return OTHER;
}

/**
 * The text as characters with the marks and format characters attached to them (UAX #29
 * rule WB4), kept as parallel arrays: tokenizing runs on every event a text rule reads.
 */
interface Units {
  n: number;
  start: Int32Array;
  end: Int32Array;
  cls: Uint8Array;
  /** Bit 1: ends with a zero-width joiner; bit 2: has a keycap mark (1️⃣). */
  flags: Uint8Array;
}
const ENDS_WITH_ZWJ = 1;
const HAS_KEYCAP = 2;

/** Reused between calls (allocating arrays per message costs more than tokenizing it). */
let scratch: Units = newUnits(256);

function newUnits(capacity: number): Units {
  return { n: 0, start: new Int32Array(capacity), end: new Int32Array(capacity), cls: new Uint8Array(capacity), flags: new Uint8Array(capacity) };
}

function units(text: string, from: number, to: number, reuse: boolean): Units {
  const size = to - from;
  let u: Units;
  if (!reuse) u = newUnits(size);
  else {
    if (scratch.start.length < size) scratch = newUnits(Math.max(size, 2 * scratch.start.length));
    u = scratch;
    u.n = 0;
  }
  let last = -1;
  for (let i = from; i < to; ) {
    const unit = text.charCodeAt(i);
    const cp = unit < 0xd800 ? unit : text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const cls = cp < 128 ? ASCII_CLASSES[cp] : wordBreakClass(cp);
    if (last >= 0 && u.cls[last] !== NEWLINE && (cls === EXTEND || cls === FORMAT || cls === ZWJ || (cls === EMOJI_MODIFIER && MODIFIABLE[u.cls[last]]))) {
      u.end[last] = i + width;
      u.flags[last] = (u.flags[last] & HAS_KEYCAP) | (cls === ZWJ ? ENDS_WITH_ZWJ : 0) | (cp === KEYCAP ? HAS_KEYCAP : 0);
    } else {
      last = u.n++;
      u.start[last] = i;
      u.end[last] = i + width;
      u.cls[last] = cls === EMOJI_MODIFIER ? PICTOGRAPHIC : cls;
      u.flags[last] = cls === ZWJ ? ENDS_WITH_ZWJ : 0;
    }
    i += width;
  }
  return u;
}

const isAHLetter = (c: number | undefined) => c === A_LETTER || c === HEBREW_LETTER;
const isMidLetterQ = (c: number) => c === MID_LETTER || c === MID_NUM_LET || c === SINGLE_QUOTE;
const isMidNumQ = (c: number) => c === MID_NUM || c === MID_NUM_LET || c === SINGLE_QUOTE;

/** Whether UAX #29 keeps units i and i+1 in one word (rules WB3c–WB16; everything else breaks). */
function joins(u: Units, i: number, riRun: number): boolean {
  const prev = i > 0 ? u.cls[i - 1] : undefined;
  const a = u.cls[i];
  const b = u.cls[i + 1];
  const next = i + 2 < u.n ? u.cls[i + 2] : undefined;
  if (a === PICTOGRAPHIC && u.flags[i] & ENDS_WITH_ZWJ && b === PICTOGRAPHIC) return true; // WB3c, as Lucene applies it: emoji ZWJ sequences
  if (isAHLetter(a) && isAHLetter(b)) return true; // WB5
  if (isAHLetter(a) && isMidLetterQ(b) && isAHLetter(next)) return true; // WB6
  if (isAHLetter(prev) && isMidLetterQ(a) && isAHLetter(b)) return true; // WB7
  if (a === HEBREW_LETTER && b === SINGLE_QUOTE) return true; // WB7a
  if (a === HEBREW_LETTER && b === DOUBLE_QUOTE && next === HEBREW_LETTER) return true; // WB7b
  if (prev === HEBREW_LETTER && a === DOUBLE_QUOTE && b === HEBREW_LETTER) return true; // WB7c
  if ((a === NUMERIC || isAHLetter(a)) && (b === NUMERIC || isAHLetter(b)) && (a === NUMERIC || b === NUMERIC)) return true; // WB8–WB10
  if (prev === NUMERIC && isMidNumQ(a) && b === NUMERIC) return true; // WB11
  if (a === NUMERIC && isMidNumQ(b) && next === NUMERIC) return true; // WB12
  if (a === KATAKANA && b === KATAKANA) return true; // WB13
  if ((isAHLetter(a) || a === NUMERIC || a === KATAKANA || a === EXTEND_NUM_LET) && b === EXTEND_NUM_LET) return true; // WB13a
  if (a === EXTEND_NUM_LET && (isAHLetter(b) || b === NUMERIC || b === KATAKANA)) return true; // WB13b
  if (a === REGIONAL_INDICATOR && b === REGIONAL_INDICATOR) return riRun % 2 === 1; // WB15/16: flags are pairs
  if (a === SOUTHEAST_ASIAN && b === SOUTHEAST_ASIAN) return true; // Lucene: no dictionary, the run is one token
  return false;
}

/** Calls `token(start, end)` for each token of text[from, to), in position order. */
function tokenSpans(text: string, from: number, to: number, token: (start: number, end: number) => void, nested = false): void {
  const u = units(text, from, to, !nested);
  const n = u.n;
  let first = 0;
  let isToken = false;
  let riRun = 0;
  for (let i = 0; i < n; i++) {
    const cls = u.cls[i];
    if (IS_TOKEN_CLASS[cls] || u.flags[i] & HAS_KEYCAP) isToken = true;
    riRun = cls === REGIONAL_INDICATOR ? riRun + 1 : 0;
    if (i + 1 < n && joins(u, i, riRun)) continue;
    // A flag (two regional indicators) is a token; a lone indicator is not.
    if (isToken || (i === first + 1 && cls === REGIONAL_INDICATOR && u.cls[first] === REGIONAL_INDICATOR)) {
      for (let s = u.start[first]; s < u.end[i]; s += MAX_TOKEN_LENGTH) token(s, Math.min(s + MAX_TOKEN_LENGTH, u.end[i]));
    } else {
      // Lucene skips one character where no token starts and looks again from the next one:
      // a skin tone after a space is an emoji of its own although UAX #29 attaches it.
      const next = u.start[first] + (text.codePointAt(u.start[first])! > 0xffff ? 2 : 1);
      if (next < u.end[i]) tokenSpans(text, next, u.end[i], token, true);
    }
    first = i + 1;
    isToken = false;
  }
}

/**
 * Lucene's LowerCaseFilter: Java's Character.toLowerCase, one code point at a time. Same as
 * JavaScript's toLowerCase except where JavaScript looks at more than one character: "İ"
 * becomes "i" (not "i̇") and "Σ" is always "σ" (never the final "ς").
 */
export function lowercase(text: string): string {
  if (!/[\u0130\u03a3]/.test(text)) return text.toLowerCase();
  return text.replace(/\u0130/g, 'i').replace(/\u03a3/g, '\u03c3').toLowerCase();
}

/** The terms the standard analyzer indexes for a text value, in position order. */
export function analyzeStandard(text: string): string[] {
  // Lowercasing keeps every UTF-16 length once "İ" is mapped to "i": cut the tokens from
  // the lowercased text in one go (and one at a time should that ever not hold).
  const lower = lowercase(text);
  const tokens: string[] = [];
  if (lower.length === text.length) tokenSpans(text, 0, text.length, (start, end) => tokens.push(lower.slice(start, end)));
  else tokenSpans(text, 0, text.length, (start, end) => tokens.push(lowercase(text.slice(start, end))));
  return tokens;
}
