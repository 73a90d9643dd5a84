// Online log-template miner of the Drain family (He et al., "Drain: An Online Log Parsing
// Approach with Fixed Depth Tree", ICWS 2017), with general masks (./masks.ts) and changes
// where Drain is weak:
//
// 1. Similarity over constant text only. A position where the message holds a masked value
//    (`<num>`, `blk_<*>`, …) and the template has a value of the same field there says nothing
//    about the template's constant text: it is left out. The similarity is the share of the
//    other positions whose word the template has (a template `<*>` facing a word counts as a
//    difference, as in Drain, so a template cannot collapse into matching everything). Short
//    messages full of numbers thus need their few words to agree.
// 2. Leading variables. Drain descends a fixed-depth tree by the first tokens, so a variable
//    among them splits a template for ever. Here a prefix token that is masked or has a digit
//    goes to the wildcard branch; a node that has seen maxChildren distinct words sends new
//    ones to the wildcard branch; a cluster whose template generalizes at a prefix position
//    moves to the wildcard branch; a lookup searches both the exact and the wildcard branch at
//    each level; and when no cluster in those leaves is similar enough, all clusters of the
//    same token count are compared before a new one is created (on a miss only, so the common
//    path stays a few comparisons). A bracketed lower-case name that opens a message (fail2ban's
//    `[sshd] Ban <ip>`) is its context, a value (isContextTag); a method or module that opens it
//    (`operationExecutor.MountVolume started …`, `pam_unix(sshd:session): …`) is its source, a
//    constant (isMethodName, isModuleCall).
// 3. Variable length. Masks make most variable stretches one token: a run of the same masked
//    token (a list of ids) is one token, a spelled date is one `<date>`, a number and its unit
//    one `<size>`/`<duration>`. A value that spans more or fewer tokens than in the template
//    (`chrome.exe *64` for `chrome.exe`, `ws=WorkSource{10014 com.google.android.gms},` for
//    `ws=null,`) joins it on a miss (searchSpans): a run of up to three value-like tokens (not
//    words, not another key=value field) read as one, held in place by the equal text after it.
//    Free text of varying length (a reason in words) still gives one template per token count.
// 4. Settled constants. A word that a cluster has kept for stableAfter messages is a constant
//    of the template: a message with another word there starts a new template instead of
//    turning it into `<*>` ("Session: <num> initialized by client WindowsUpdateAgent." seen 600
//    times does not absorb "… by client SPP."). Variables that differ from the start are
//    generalized before the cluster settles.
// 5. Upper-case keywords are constants from the start. Two different upper-case words at one
//    position (`GET`/`POST`, `HTTPS`/`SOCKS5`, `LOOKING`/`LEADING`; see isKeyword) are two
//    templates even before the position settles: such words name a method, protocol or
//    state, not a value, and a Drain-style similarity would merge them as soon as they differ
//    at one position of many. A keyword facing a lower-case word still generalizes. A dotted
//    name ending in one (`android.intent.action.SCREEN_ON`) and a boolean are states too where
//    they are the only difference (namesState).
// 6. Outcomes are constants. Two words that say how something went or what state it is in
//    (`passed`/`failed`, `established`/`lost`, `Starting`/`Stopped`, `level=info`/`level=error`;
//    ./outcome-words.ts) are two templates from the first message: a failure never hides in a
//    success's template, whichever came first. So do the other things that tell one problem
//    from another: an error type, a server-error status (`5xx`), two field names
//    (`result=` / `state=`), two kinds of value (`<duration>` / `<time>`), an empty `()`
//    against a filled one, a value with a name before it against none (`by zhao(uid=<num>)` /
//    `by (uid=<num>)`; two names there make `<*>(uid=<num>)`, as two values of one key make
//    `key=<*>`); none of them ever fills a `<*>` slot. Two different actions in
//    -ing (MySQL's `error reading` / `error writing communication packets`) are two templates,
//    and so are two lower-case words in a row that differ (another phrase, not a value), and a
//    line ending in a colon (it heads the lines after it) and the same words without one, two
//    directions (`from` / `to`), two words answering a label that asks how something went
//    (`state "running"` / `state "dead"`, `code "ECONNREFUSED"`), and two upper-case values of
//    one key, quoted or not (`apparmor="ALLOWED"` / `"AUDIT"`).
// 7. Stable ids. A cluster's id is fixed at creation (idFor(first template), by default a hash
//    of it) and never changes when the template generalizes; ties between equally similar
//    clusters go to the older cluster, so the same messages in the same order always give the
//    same ids, and load() restores templates under their ids.
// 8. Floods. A three-word message with one variable word (not the first) joins a template with
//    `<*>` there; eight templates differing at that one position make the oldest `<*>`
//    (ONE_DIFFERENCE_NEEDS, SIBLINGS_TO_MERGE). Free text after a label (`… user <num>: <any
//    words>`) makes at most FLOOD_TEMPLATES templates, then one `<label> <*>` — never for a
//    message that says something went wrong (floodOf, saysSomething). A lower-case word that
//    differs right before a value names that value's kind (`web application archive [<path>]`
//    / `… directory [<path>]`): the same eight-sibling count decides, unless the word before it
//    says a name follows (`user alice <ip>`: NAME_FOLLOWS).
// 9. A cache of messages seen as they are (the simplest form of LILAC's parsing cache; Jiang et
//    al., "LILAC", FSE 2024): logs repeat the same text, and a message seen before, while no
//    template was created or changed since, goes to the same template as then — search would
//    find it again (other templates can only have settled since, which never takes a match from
//    it) — so it skips masking and search. Any change to a template empties the cache; peek()
//    fills it too when matching would change nothing (absorbs).

import { createHash } from 'node:crypto';
import { DEFAULT_MAX_CHARS, WILDCARD, hasPlaceholder, maskedTokens, skeleton } from './masks.js';
import { hasFailureWord, isFailureWord, isOutcomeWord, namesErrorType, outcomesDiffer, statusClassOf } from './outcome-words.js';
import { TemplateText } from './access-template.js';

export interface MinerOptions {
  /** Share of the constant (unmasked) positions that must be equal to join a cluster (default 0.7). */
  similarity?: number;
  /** Drain's tree depth: the first depth-2 tokens index the clusters (default 4). */
  depth?: number;
  /** Distinct tokens a tree node keeps before new ones go to the wildcard branch (default 32). */
  maxChildren?: number;
  /** Characters of a line read, default 1024 (a longer one: windows at its start and end; masks.ts joinLong keeps 48 + 16 tokens of any long message); only the first line is mined. */
  maxChars?: number;
  /** The id of a new cluster; default: templateId(first template text). */
  idFor?: (firstTemplate: string) => string;
  /**
   * A literal token that a cluster has kept for this many messages is a constant: a message
   * with another word there does not join (default 16; 0 turns it off).
   */
  stableAfter?: number;
  /** On a miss in the prefix tree, scan all clusters of the same token count (default true). */
  crossBranch?: boolean;
  /**
   * At most this many clusters (the newest) compared per message in the indexed leaves, and as
   * many again on a miss (default 256): a flood of distinct messages cannot make each message
   * cost a comparison with thousands of templates.
   */
  maxScan?: number;
  /** Messages remembered with their template (see 9.; default 4,096; 0 turns the cache off). */
  cacheMessages?: number;
}

export interface TemplateMatch {
  id: string;
  template: string;
  created: boolean;
  changed: boolean;
}

export interface KnownTemplate {
  id: string;
  template: string;
  count?: number;
}

/** Stable id of a template text: the first 16 hex digits of sha1(namespace NUL text). */
export function templateId(text: string, namespace = ''): string {
  return createHash('sha1').update(`${namespace}\u0000${text}`).digest('hex').slice(0, 16);
}

interface Cluster {
  id: string;
  tokens: string[];
  count: number;
  /** Creation (or load) order: the tie-break. */
  seq: number;
  /** The tree leaf that holds the cluster. */
  leaf?: Node;
  text?: string;
}

/** A cluster found for a message, with the alignment of a value spanning a different number of tokens (searchSpans). */
interface SpanMatch {
  cluster: Cluster;
  /** The message's tokens with a run joined into one, as long as the template. */
  aligned?: string[];
  /** The template with a run read as one `<*>`, as long as the message. */
  template?: string[];
}

/** The templates created after one label prefix (floodOf). */
interface Flood {
  prefixLength: number;
  /** Templates created after the prefix since it was last looked at (at most FLOOD_TEMPLATES). */
  clusters: Cluster[];
  flooded: boolean;
  /** `<prefix> <*>`, once flooded. */
  template?: Cluster;
}

/**
 * Templates created after one label prefix, most of them seen once, that make it a flood of free
 * text (more than a service's start-up logs under one logger, each line once); and the most
 * prefixes followed (a flood of distinct prefixes is bounded by maxScan and
 * the collector's per-dataset cap instead).
 */
const FLOOD_TEMPLATES = 128;
/** The share of them seen once that makes a flood (what says something went wrong is never taken: saysSomething). */
const FLOOD_SEEN_ONCE = 0.75;
const MAX_FLOOD_PREFIXES = 10_000;
/** Messages the cache holds by default (emptied when full) and the longest it keeps: a few MiB at most. */
const CACHE_MESSAGES = 4096;
const CACHE_MESSAGE_CHARS = 256;

/**
 * The length of a message's label prefix — its tokens up to the first that ends in `:` among the
 * first six (`Received message from user <num>:`, `KeyError:`) and the labels right after it
 * (`LOG: statement:`), with text after them — or 0.
 */
function floodPrefixLength(tokens: string[]): number {
  const n = Math.min(tokens.length - 1, 6);
  for (let i = 0; i < n; i++) {
    if (!endsWithColon(tokens[i])) continue;
    let end = i + 1;
    while (end < tokens.length - 1 && endsWithColon(tokens[end])) end++;
    return end;
  }
  return 0;
}
const endsWithColon = (t: string) => t.charCodeAt(t.length - 1) === 58;
/**
 * A last token that ends the line with a colon, heading what follows (`… user: 'guest'):`): a
 * word or a closer before the colon — not a value that ends in one (a drive `D:`, an IPv6
 * address `fe80::1:`, masked or not).
 */
function headsNext(t: string): boolean {
  if (t.length < 3 || !endsWithColon(t)) return false;
  if (t === HEADING_SLOT) return true; // a heading's value in a template (generalize)
  const c = t.charCodeAt(t.length - 2);
  return !(c === 58 || c === 62 || (c >= 48 && c <= 57));
}
const HEADING_SLOT = `${WILDCARD}:`;

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

const newNode = (): Node => ({ children: new Map(), clusters: [] });

function isVariable(token: string): boolean {
  if (token === WILDCARD || hasPlaceholder(token)) return true;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** Letters outside the `<…>` placeholders: `lock=<num>,` has them, `<num>` and `#<*>#` do not. */
function hasLetterOutsidePlaceholders(token: string): boolean {
  let inside = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 60) inside = true;
    else if (c === 62) inside = false;
    else if (!inside && ((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return true;
  }
  return false;
}

/** sim()'s answer for a template the message cannot join. */
const NO_MATCH: [number, number, number] = [-1, 0, 0];

/**
 * Short messages with one variable word. Drain's similarity keeps a three-word message with one
 * variable word (`Unknown command <word>`, `Connected to <name>`) apart for every value — a flood
 * of distinct words would be a template (an incident, a ticket) each. Such a message with at
 * least ONE_DIFFERENCE_NEEDS equal words joins a template with `<*>` at its differing position;
 * where there is none yet, the oldest of SIBLINGS_TO_MERGE templates that differ from it at
 * that position only takes it. Fewer variants stay templates of their own: a word with a few
 * values is more often a constant (`Starting TrustedInstaller initialization.` / `…
 * finalization.`, BGL's five kinds of `program interrupt`).
 */
const ONE_DIFFERENCE_NEEDS = 2;
const SIBLINGS_TO_MERGE = 8;

/** How many tokens more or fewer than in its template a value may span (searchSpans). */
const MAX_SPAN = 2;

/**
 * A token that holds a value rather than a word: a masked value, a digit, or letters joined by
 * punctuation that words do not carry inside them (`svchost.exe`, `WorkSource{1`, `a/b`,
 * `host:443`, `*64`). Not `_`: a snake_case name is a function or field, a constant.
 */
function isValueLike(token: string): boolean {
  if (isVariable(token)) return true;
  let s = 0;
  let e = token.length;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  let punctuation = false;
  let alphanumeric = false;
  for (let i = s; i < e; i++) {
    const c = token.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) alphanumeric = true;
    else if (VALUE_PUNCTUATION.includes(token[i])) punctuation = true;
  }
  return punctuation && alphanumeric;
}
const VALUE_PUNCTUATION = './\\:{}[]@#=*|';

/**
 * The run short[j] = long[j..end] is held in place by the text around it: the token after it
 * (or, at the end, the one before) is the same in both — or two values of one key.
 */
function bounded(short: string[], j: number, long: string[], end: number): boolean {
  const agree = (a: string, b: string) => a === b || sameKey(a, b) !== undefined;
  if (j + 1 < short.length) return end + 1 < long.length && agree(short[j + 1], long[end + 1]);
  return j > 0 && agree(short[j - 1], long[j - 1]);
}

/**
 * Where a run may sit when `short` (template or message) has one token where `long` has
 * several: positions lo..hi such that every token before the run fits from the start and
 * every token after it fits from the end. [1, 0] (empty) when none.
 */
function spanWindow(short: string[], long: string[]): [number, number] {
  const m = short.length;
  const n = long.length;
  let prefix = 0;
  while (prefix < m && fits(short[prefix], long[prefix])) prefix++;
  let suffix = 0;
  while (suffix < m && fits(short[m - 1 - suffix], long[n - 1 - suffix])) suffix++;
  return [Math.max(0, m - 1 - suffix), Math.min(prefix, m - 1)];
}

/** Token b can stand where a stands, for a span match: equal, a value of a `<*>` or of one key, or values of one shape — never a failure word in a slot. */
function fits(a: string, b: string): boolean {
  if (a === b) return true;
  if (a === WILDCARD) return !saysOutcome(b);
  if (sameKey(a, b)) return !outcomesDiffer(a, b) && !saysOutcome(b);
  return hasPlaceholder(a) && hasPlaceholder(b) && skeleton(a) === skeleton(b);
}

/**
 * Tokens from..to (inclusive) can be one value: all value-like, and none after the first a
 * `key=value` field (`rhost=a user=b` is another field, not a longer `rhost=` value), none
 * with a failure word in it (`(checksum:MISMATCH)` says how it went).
 */
function runIsValue(tokens: string[], from: number, to: number): boolean {
  if (!isValueLike(tokens[from]) || saysOutcome(tokens[from])) return false;
  for (let i = from + 1; i <= to; i++) if (!isValueLike(tokens[i]) || tokens[i].indexOf('=') > 0 || saysOutcome(tokens[i])) return false;
  return true;
}

/**
 * An upper-case keyword (`GET`, `"POST`, `HTTPS`, `[LNKA]`, `SOCKS<*>` from `SOCKS5`): inside
 * wrapping punctuation, two upper-case letters or more (`_` between them), at most a masked
 * number after them, nothing else.
 */
export function isKeyword(token: string): boolean {
  let s = 0;
  let e = token.length;
  // A quoted word is a value (`set to 'JP'.`, `"OK"`): quotes around it, not only before it (`"GET`).
  const q = token.charCodeAt(0);
  if ((q === 34 || q === 39) && token.indexOf(token[0], 1) > 0) return false;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && token[e - 1] !== '>' && CLOSERS.includes(token[e - 1])) e--;
  if (e - s >= 5 && token.startsWith(WILDCARD, e - 3)) e -= 3;
  else while (e > s && CLOSERS.includes(token[e - 1])) e--;
  if (e - s < 2) return false;
  for (let i = s; i < e; i++) {
    const c = token.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c === 95 && i > s && i < e - 1))) return false;
  }
  return true;
}
/**
 * A Java-style constant: a dotted name whose last part is an upper-case keyword
 * (`android.intent.action.SCREEN_ON`, `act=android.net.wifi.STATE_CHANGE`) — an enum value or
 * intent action names a state or event as an upper-case word does (isKeyword).
 */
export function isConstantName(token: string): boolean {
  const dot = token.lastIndexOf('.');
  // Two dots at least: `vacation.JPG`, `scan.TIFF` are file names.
  if (dot <= 0 || token.lastIndexOf('.', dot - 1) < 0) return false;
  const eq = Math.max(token.indexOf('='), token.indexOf(':'));
  const start = eq >= 0 && eq < dot ? eq + 1 : 0;
  const head = token.charCodeAt(start);
  if (!(head >= 97 && head <= 122)) return false;
  return isKeyword(token.slice(dot + 1));
}
/**
 * A method or class in code's spelling (`operationExecutor.MountVolume`, `"SyncLoop.Probe`): a
 * dotted name of identifiers with an upper-case letter after the first — not a host, a package
 * or a path (`d.dropbox.com`, `com.tencent.mm/.ui`, digits).
 */
export function isMethodName(token: string): boolean {
  if (token.indexOf('.') < 0) return false;
  let s = 0;
  let e = token.length;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  let dot = false;
  let upper = false;
  let segmentStart = true;
  for (let i = s; i < e; i++) {
    const c = token.charCodeAt(i);
    if (c === 46) {
      if (segmentStart) return false;
      dot = true;
      segmentStart = true;
      continue;
    }
    const isUpper = c >= 65 && c <= 90;
    if (!(isUpper || (c >= 97 && c <= 122) || c === 95 || c === 36)) return false;
    if (isUpper && i > s) upper = true;
    segmentStart = false;
  }
  if (!dot || !upper || segmentStart) return false;
  // The last part in mixed case (`MountVolume`, `purgeInterval`): not a file's extension
  // (`invoiceMarch.pdf`, `README.md`, `scan.TIFF`).
  const last = token.slice(token.lastIndexOf('.', e - 1) + 1, e);
  return /[a-z]/.test(last) && /[A-Z]/.test(last);
}
/**
 * A module and what it serves, in call form (`pam_unix(sshd:session):`): names, no digits or
 * values inside, a colon between them (Dovecot's `imap(alice):` holds a user, a value).
 */
const MODULE_CALL = /^[A-Za-z_][\w-]*\([A-Za-z_][\w-]*(?::[A-Za-z_][\w-]*)+\):?$/;
export function isModuleCall(token: string): boolean {
  return token.indexOf('(') > 0 && MODULE_CALL.test(token);
}
/** One word in quotes (`"orders"`, `'sshd',`). */
function isQuotedWord(token: string): boolean {
  const q = token.charCodeAt(0);
  if (q !== 34 && q !== 39) return false;
  let e = token.length;
  while (e > 1 && token[e - 1] !== token[0] && CLOSERS.includes(token[e - 1])) e--;
  return e > 2 && token.charCodeAt(e - 1) === q && token.indexOf(token[0], 1) === e - 1;
}
/**
 * tokens[i] is a name the message quotes (`relation "orders"`, `Jail 'sshd'`): a value (see
 * isKeyword) — not an outcome in quotes (`result 'approved'`), nor any word after a label that
 * asks how something went (`status "dead"`, `result 'insufficient_funds'`).
 */
function quotedName(tokens: readonly string[], i: number): boolean {
  const token = tokens[i];
  return isQuotedWord(token) && !isOutcomeWord(token) && !saysOutcome(token) && !(i > 0 && OUTCOME_LABELS.has(wordBefore(tokens[i - 1])));
}
const OUTCOME_LABELS = new Set(['result', 'status', 'state', 'outcome', 'verdict', 'decision', 'response', 'code']);
/** tokens[i] and template[i], two words, answer the same label that asks how something went (`state "running"` / `state "dead"`, `code "ECONNREFUSED"` / `"ETIMEDOUT"`). */
function answersOutcomeLabel(template: readonly string[], tokens: readonly string[], i: number): boolean {
  return i > 0 && template[i - 1] === tokens[i - 1] && OUTCOME_LABELS.has(wordBefore(tokens[i - 1])) && !hasPlaceholder(template[i]) && !hasPlaceholder(tokens[i]);
}
/** The value of `key=value` without its quotes (`apparmor="ALLOWED"` → `ALLOWED`). */
function unquotedValue(token: string): string {
  const eq = token.indexOf('=');
  let s = eq + 1;
  let e = token.length;
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  while (s < e && OPENERS.includes(token[s])) s++;
  return token.slice(s, e);
}
/** Two directions (`connection established from <host>` / `… to <host>`: inbound, outbound): two templates. */
const DIRECTIONS = new Set(['from', 'to']);
/** A boolean, bare or a key's (`plugged=false`, `true,`). */
function isBoolean(token: string): boolean {
  const eq = token.indexOf('=');
  let e = token.length;
  while (e > eq + 1 && CLOSERS.includes(token[e - 1])) e--;
  const v = token.slice(eq + 1, e).toLowerCase();
  return v === 'true' || v === 'false';
}
/**
 * Up to MAX_FLAGS booleans and nothing else differ (`connected=false ready=false` against
 * `connected=true ready=true`): states too, or the worse combination would hide in the template
 * of the first — at most 2^MAX_FLAGS templates; more flags varying at once are values.
 */
function onlyFlagsDiffer(template: readonly string[], tokens: readonly string[], words: readonly number[], keys: readonly number[]): boolean {
  if (words.length + keys.length > MAX_FLAGS) return false;
  for (const i of words) if (!isBoolean(template[i]) || !isBoolean(tokens[i])) return false;
  for (const i of keys) if (!isBoolean(template[i]) || !isBoolean(tokens[i])) return false;
  return true;
}
const MAX_FLAGS = 3;
/** A value that names a state rather than holding a quantity or a name: a Java-style constant or a boolean. */
function namesState(token: string): boolean {
  return isConstantName(token) || isBoolean(token);
}
/** Words after which a name follows (`user alice`, `principal orders`): the word after them is a value, whatever comes next. */
const NAME_FOLLOWS = new Set('user username principal account login owner host hostname node peer client member tenant customer domain group role team'.split(' '));

/**
 * A bracketed lower-case name that opens a message (fail2ban's jail, `[sshd] Ban <ip>` /
 * `[nginx-http-auth] Ban <ip>`): the context the message is about, a value like a thread name
 * a header would have taken — not the kind of message. Not a level (`[error]`: an outcome).
 */
function isContextTag(token: string): boolean {
  return token.length > 3 && token.charCodeAt(0) === 91 && /^\[[a-z][a-z0-9_-]*\]$/.test(token);
}
/** A lower-case word of six letters or more ending in -ing (`reading`, `writing`): an action, as two different ones are two kinds of message. */
function isGerund(token: string): boolean {
  return token.length >= 6 && token.endsWith('ing') && isLowerCaseWord(token);
}
/** A lower-case word, or one with the punctuation a phrase puts after it (`stderr:`, `done,`). */
function isPhraseWord(token: string): boolean {
  const last = token.charCodeAt(token.length - 1);
  return isLowerCaseWord((last === 58 || last === 44 || last === 46 || last === 59) ? token.slice(0, -1) : token);
}

/** A token of lower-case letters only, two or more. */
function isLowerCaseWord(token: string): boolean {
  if (token.length < 2) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c < 97 || c > 122) return false;
  }
  return true;
}

/** A token as a lower-case word without the punctuation after it (`User:` → `user`). */
function wordBefore(token: string): string {
  let e = token.length;
  while (e > 0 && CLOSERS.includes(token[e - 1])) e--;
  return token.slice(0, e).toLowerCase();
}

/**
 * A token that says how something went or what failed — a failure word in it (`failed`,
 * `checksum:MISMATCH`), an exception type, a server-error status class (`5xx`) — and so is
 * never a value of a `<*>` slot.
 */
function saysOutcome(token: string): boolean {
  return hasFailureWord(token) || isFailureWord(token) || namesErrorType(token) || statusClassOf(token) !== undefined;
}

/** A token that holds a value rather than a word, and does not say how something went. */
function isPlainValue(token: string): boolean {
  return token !== WILDCARD && isValueLike(token) && !isKeyword(token) && !saysOutcome(token);
}

/**
 * The field name of `key=value` or `key:value` (`result=success` → `result`), or '' when the
 * token is not one. Two tokens with different field names are two fields, never one value
 * (`result=success` and `state=declined`; `disk:critical` and `memory:critical`).
 */
function fieldName(token: string): string {
  let s = 0;
  while (s < token.length && OPENERS.includes(token[s])) s++;
  for (let i = s; i < token.length - 1 && i - s <= 40; i++) {
    const c = token.charCodeAt(i);
    if (c === 61 || c === 58) return i > s ? token.slice(s, i) : '';
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 46)) return '';
  }
  return '';
}

function differentFields(a: string, b: string): boolean {
  const x = fieldName(a);
  if (x === '') return false;
  const y = fieldName(b);
  return y !== '' && x !== y;
}

/**
 * An empty value: a bracket or quote pair with nothing inside (`()`, `[],`, `""`). Nothing there
 * is no value of a slot: `connection from <ip> () at <date>` (no host name) and `… (<host>) …`
 * are two templates.
 */
function isEmptyValue(token: string): boolean {
  const n = token.length;
  if (n < 2 || n > 4 || !OPENERS.includes(token[0])) return false;
  for (let i = 1; i < n; i++) if (!CLOSERS.includes(token[i])) return false;
  return true;
}

/**
 * A field's label (`disk:`, `Total_memory:`): a word and one colon. Two different labels with a
 * value after them, after the first token, name two different fields ("Total disk: <size>"
 * and "Total memory: <size>"), never one value. Not the first token, nor one with a word after
 * it: a name before a colon there is often the value ("alice: hello", "user apache:
 * authentication failure").
 */
function isLabel(token: string): boolean {
  const n = token.length;
  if (n < 3 || token.charCodeAt(n - 1) !== 58) return false;
  for (let i = 0; i < n - 1; i++) {
    const c = token.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (i > 0 && (c === 95 || c === 45)))) return false;
  }
  return true;
}
/**
 * tokens[i] opens a quoted value of the field labelled just before it (nginx's `request: "GET
 * /x HTTP/1.1"`): what is inside is that field's value — its upper-case words are not keywords,
 * the method is not the kind of message. Not a quoted word (`'JP'`, closed in the token), nor
 * a quote with no label before it (an access line's `"GET …" 200`, where the method is kept).
 */
function opensQuotedValue(tokens: readonly string[], i: number): boolean {
  const t = tokens[i];
  const q = t.charCodeAt(0);
  return i > 0 && (q === 34 || q === 39) && t.indexOf(t[0], 1) < 0 && isLabel(tokens[i - 1]);
}
const OPENERS = '([{<"\'`';
const CLOSERS = ')]}>"\'`,;:.!?';

export class TemplateMiner {
  private readonly similarity: number;
  /** sim() stops once the differences need more equal positions than remain (see the constructor). */
  private readonly bailRatio: number;
  /** sim()'s scratch: positions of differing words and of differing values of one key. */
  private readonly differingWords: number[] = [];
  private readonly differingKeys: number[] = [];
  private readonly wordsInSlots: number[] = [];
  private readonly prefixDepth: number;
  private readonly maxChildren: number;
  private readonly maxChars: number;
  private readonly idFor: (firstTemplate: string) => string;
  private readonly stableAfter: number;
  private readonly crossBranch: boolean;
  private readonly maxScan: number;
  private readonly cacheMessages: number;
  /** Label prefix → the templates created after it (floodOf). */
  private readonly floods = new Map<string, Flood>();
  /** Token count → tree root (the first prefixDepth tokens index the leaves). */
  private readonly byLength = new Map<number, { root: Node; all: Cluster[] }>();
  private readonly byId = new Map<string, Cluster>();
  /** Messages (as given) matched to a template that has not changed since, nor any other (see 9.). */
  private readonly seen = new Map<string, Cluster>();
  private seq = 0;
  /** Set by sim(): the position of the one differing word that kept the message below the threshold, else -1. */
  private oneDifferenceAt = -1;
  /** search()'s scratch: per token position, the templates that differ from the message there only (count, oldest). */
  private readonly siblings = new Map<number, { count: number; oldest: Cluster }>();
  /** The message being matched is a template text (TemplateText): its tokens are words as they are, none read as a value. */
  private literal = false;
  /** isPlainValue of the message's tokens, worked out once per message as sim() asks (0 not yet, 1 yes, 2 no). */
  private valueFlags = new Int8Array(64);
  private valueFlagsOf?: string[];

  constructor(options: MinerOptions = {}) {
    this.similarity = options.similarity ?? 0.7;
    // sim = eq / (eq + differences) ≥ similarity ⟺ eq ≥ differences · similarity / (1 − similarity)
    this.bailRatio = this.similarity >= 1 ? Infinity : Math.max(0, this.similarity / (1 - this.similarity));
    this.prefixDepth = Math.max(0, (options.depth ?? 4) - 2);
    this.maxChildren = Math.max(1, options.maxChildren ?? 32);
    this.maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    this.idFor = options.idFor ?? ((t) => templateId(t));
    this.stableAfter = options.stableAfter ?? 16;
    this.crossBranch = options.crossBranch ?? true;
    this.maxScan = options.maxScan ?? 256;
    this.cacheMessages = options.cacheMessages ?? CACHE_MESSAGES;
  }

  match(message: string | TemplateText): TemplateMatch {
    const cached = typeof message === 'string' ? this.seen.get(message) : undefined;
    if (cached) {
      cached.count++;
      return { id: cached.id, template: this.text(cached), created: false, changed: false };
    }
    const tokens = this.tokens(message);
    this.literal = message instanceof TemplateText;
    const found: SpanMatch | undefined = this.search(tokens) ?? (message instanceof TemplateText ? undefined : this.searchSpans(tokens));
    if (found) {
      const { cluster } = found;
      cluster.count++;
      let changed = false;
      if (found.template) {
        // The template's value spanned more tokens than this message's: it becomes one `<*>`.
        this.unindex(cluster);
        cluster.tokens = found.template;
        cluster.text = undefined;
        this.index(cluster);
        changed = true;
      }
      changed = this.generalize(cluster, found.aligned ?? tokens) || changed;
      if (changed) this.seen.clear();
      else if (!found.aligned) this.remember(message, cluster);
      return { id: cluster.id, template: this.text(cluster), created: false, changed };
    }
    if (!this.literal) {
      const flood = this.floodOf(tokens);
      // What says something went wrong is never flood text: it gets a template of its own.
      if (flood?.flooded && !this.saysSomething(tokens, flood.prefixLength)) {
        // A flood of free text after this prefix: one template for all of it.
        if (flood.template) {
          flood.template.count++;
          return { id: flood.template.id, template: this.text(flood.template), created: false, changed: false };
        }
        const label = [...tokens.slice(0, flood.prefixLength), WILDCARD];
        // Loaded already (a restarted collector sees the flood again): the same template, the same id.
        const known = this.byId.get(this.idFor(label.join(' ')));
        if (known && this.text(known) === label.join(' ')) {
          flood.template = known;
          known.count++;
          return { id: known.id, template: this.text(known), created: false, changed: false };
        }
        flood.template = this.create(label);
        return { id: flood.template.id, template: this.text(flood.template), created: true, changed: false };
      }
      const cluster = this.create(tokens);
      flood?.clusters.push(cluster);
      return { id: cluster.id, template: this.text(cluster), created: true, changed: false };
    }
    const cluster = this.create(tokens);
    return { id: cluster.id, template: this.text(cluster), created: true, changed: false };
  }

  /** Cache a message's template (see 9.): only while nothing changes, which empties the cache. */
  private remember(message: string | TemplateText, cluster: Cluster): void {
    if (typeof message !== 'string' || message.length > CACHE_MESSAGE_CHARS || this.cacheMessages === 0) return;
    if (this.seen.size >= this.cacheMessages) this.seen.clear();
    this.seen.set(message, cluster);
  }

  /** A failure word (`lost`, `FATAL`, `fault`), an error type or a 5xx among tokens[from…]. */
  private saysSomething(tokens: string[], from: number): boolean {
    for (let i = from; i < tokens.length; i++) if (saysOutcome(tokens[i])) return true;
    return false;
  }

  private create(tokens: string[]): Cluster {
    const text = tokens.join(' ');
    // Ids are unique: a taken id (a custom idFor, or a loaded template with this first text)
    // gets a deterministic suffix.
    const base = this.idFor(text);
    let id = base;
    for (let k = 2; this.byId.has(id); k++) id = `${base}-${k}`;
    const cluster: Cluster = { id, tokens, count: 1, seq: this.seq++, text };
    this.byId.set(id, cluster);
    this.index(cluster);
    return cluster;
  }

  /**
   * The flood record of a new message's label prefix (floodPrefixLength), made flooded once
   * FLOOD_TEMPLATES templates were created after it and most were seen once only: free
   * text after a label (`Received message from user <num>: <any words>`, `Unknown command:
   * <words>`, `KeyError: '<words>'`) — each message a template of its own, an incident each.
   * Templates seen again are real kinds of message, and a prefix with them is no flood.
   */
  private floodOf(tokens: string[]): Flood | undefined {
    const p = floodPrefixLength(tokens);
    if (p === 0) return undefined;
    const key = tokens.slice(0, p).join(' ');
    let flood = this.floods.get(key);
    if (!flood) {
      if (this.floods.size >= MAX_FLOOD_PREFIXES) return undefined;
      this.floods.set(key, (flood = { prefixLength: p, clusters: [], flooded: false }));
    }
    if (!flood.flooded && flood.clusters.length >= FLOOD_TEMPLATES) {
      let once = 0;
      for (const c of flood.clusters) if (c.count === 1) once++;
      if (once >= FLOOD_TEMPLATES * FLOOD_SEEN_ONCE) flood.flooded = true;
      // Kept or not, look again after as many more.
      else flood.clusters = [];
    }
    return flood;
  }

  peek(message: string | TemplateText): TemplateMatch | undefined {
    const cached = typeof message === 'string' ? this.seen.get(message) : undefined;
    if (cached) return { id: cached.id, template: this.text(cached), created: false, changed: false };
    const tokens = this.tokens(message);
    this.literal = message instanceof TemplateText;
    const found: SpanMatch | undefined = this.search(tokens) ?? (message instanceof TemplateText ? undefined : this.searchSpans(tokens));
    // Remembered when matching it would change nothing (the template takes it as it is): the
    // collector peeks a chunk before it matches it, and the match is then a cache hit.
    if (found && !found.template && !found.aligned && absorbs(found.cluster.tokens, tokens)) this.remember(message, found.cluster);
    if (!found) {
      const flood = this.literal ? undefined : this.floods.get(tokens.slice(0, floodPrefixLength(tokens)).join(' '));
      const t = flood?.flooded && !this.saysSomething(tokens, flood.prefixLength) ? flood.template : undefined;
      return t && { id: t.id, template: this.text(t), created: false, changed: false };
    }
    return { id: found.cluster.id, template: this.text(found.cluster), created: false, changed: false };
  }

  load(templates: Iterable<KnownTemplate>): void {
    for (const t of templates) {
      const tokens = t.template.split(' ').filter((x) => x !== '');
      const existing = this.byId.get(t.id);
      if (existing) {
        this.unindex(existing);
        existing.tokens = tokens;
        existing.text = undefined;
        if (t.count !== undefined) existing.count = t.count;
        this.index(existing);
        continue;
      }
      const cluster: Cluster = { id: t.id, tokens, count: t.count ?? 0, seq: this.seq++ };
      this.byId.set(t.id, cluster);
      this.index(cluster);
    }
  }

  templates(): KnownTemplate[] {
    return [...this.byId.values()].sort((a, b) => a.seq - b.seq).map((c) => ({ id: c.id, template: this.text(c), count: c.count }));
  }

  /** Number of clusters. */
  get size(): number {
    return this.byId.size;
  }

  private tokens(message: string | TemplateText): string[] {
    // A template already (an access line's method, path shape and status): its words as they are.
    if (message instanceof TemplateText) return message.text.slice(0, this.maxChars).split(' ').filter((t) => t !== '');
    if (typeof message !== 'string') message = String(message);
    return maskedTokens(message, this.maxChars);
  }

  private text(c: Cluster): string {
    return (c.text ??= c.tokens.join(' '));
  }

  // --- index -----------------------------------------------------------------------------

  private index(c: Cluster): void {
    // A new or moved template can take messages from the one they were seen with.
    this.seen.clear();
    let group = this.byLength.get(c.tokens.length);
    if (!group) this.byLength.set(c.tokens.length, (group = { root: newNode(), all: [] }));
    group.all.push(c);
    if (group.all.length > 1 && group.all[group.all.length - 2].seq > c.seq) group.all.sort((a, b) => a.seq - b.seq);
    let node = group.root;
    const depth = Math.min(this.prefixDepth, c.tokens.length);
    for (let i = 0; i < depth; i++) {
      const t = c.tokens[i];
      let key = isVariable(t) ? WILDCARD : t;
      let next = node.children.get(key);
      if (!next) {
        if (key !== WILDCARD && node.children.size >= this.maxChildren) key = WILDCARD;
        next = node.children.get(key);
        if (!next) node.children.set(key, (next = newNode()));
      }
      node = next;
    }
    node.clusters.push(c);
    if (node.clusters.length > 1 && node.clusters[node.clusters.length - 2].seq > c.seq) node.clusters.sort((a, b) => a.seq - b.seq);
    c.leaf = node;
  }

  private unindex(c: Cluster): void {
    const group = this.byLength.get(c.tokens.length);
    if (group) {
      const i = group.all.indexOf(c);
      if (i >= 0) group.all.splice(i, 1);
    }
    if (c.leaf) {
      const i = c.leaf.clusters.indexOf(c);
      if (i >= 0) c.leaf.clusters.splice(i, 1);
      c.leaf = undefined;
    }
  }

  // --- search ----------------------------------------------------------------------------

  private search(tokens: string[]): { cluster: Cluster } | undefined {
    const group = this.byLength.get(tokens.length);
    if (group) {
      const leaves: Node[] = [];
      this.collectLeaves(group.root, tokens, 0, Math.min(this.prefixDepth, tokens.length), leaves);
      let best: Cluster | undefined;
      let bestSim = -1;
      let bestWild = -1;
      // Each leaf newest first, at most maxScan clusters in all (ties still go to the oldest).
      let budget = this.maxScan;
      for (const leaf of leaves) {
        const cs = leaf.clusters;
        for (let i = cs.length - 1; i >= 0 && budget > 0; i--, budget--) {
          const c = cs[i];
          const [sim, wild] = this.sim(c, tokens);
          if (sim > bestSim || (sim === bestSim && (wild > bestWild || (wild === bestWild && best !== undefined && c.seq < best.seq)))) {
            best = c;
            bestSim = sim;
            bestWild = wild;
          }
        }
      }
      if (best && bestSim >= this.similarity) return { cluster: best };
      if (!this.crossBranch) return undefined;
      // Miss in the indexed leaves: scan all clusters of this length (leading variables that
      // the prefix index kept apart).
      best = undefined;
      bestSim = -1;
      bestWild = -1;
      // Newest first, at most maxScan.
      const all = group.all;
      const siblings = this.siblings;
      siblings.clear();
      for (let i = all.length - 1; i >= Math.max(0, all.length - this.maxScan); i--) {
        const c = all[i];
        const [sim, wild] = this.sim(c, tokens);
        if (this.oneDifferenceAt >= 0) {
          const s = siblings.get(this.oneDifferenceAt);
          if (!s) siblings.set(this.oneDifferenceAt, { count: 1, oldest: c });
          else if (++s.count && c.seq < s.oldest.seq) s.oldest = c;
        }
        if (sim > bestSim || (sim === bestSim && wild >= bestWild)) {
          best = c;
          bestSim = sim;
          bestWild = wild;
        }
      }
      if (best && bestSim >= this.similarity) return { cluster: best };
      // SIBLINGS_TO_MERGE templates that differ from the message at one position only: the
      // word there is a variable. The oldest of them takes the message and `<*>` there.
      for (const s of siblings.values()) if (s.count >= SIBLINGS_TO_MERGE) return { cluster: s.oldest };
    }
    return undefined;
  }

  /**
   * After a miss at the message's own token count: a value that spans a different number of
   * tokens than in the template (`chrome.exe *64` for `chrome.exe`, a device model of two
   * words for one of one word, `ws=WorkSource{10014 com.google.android.gms},` for `ws=null,`).
   * Templates up to MAX_SPAN tokens shorter are tried with a run of the message's value-like
   * tokens joined into one at a template position that holds a value; templates up to MAX_SPAN
   * tokens longer, with a run of the template's value-like tokens read as one `<*>` (the
   * template then keeps that shorter form). Stricter than a same-length match: every token
   * outside the run must fit the template (compatible), text must follow the run (a trailing
   * `fsck:errors` or `cache:miss` is an annotation, not a longer value), and words — failure
   * words inside a token included — never join it. Only on a miss; each candidate costs one
   * pass from each end, so floods of distinct messages stay cheap.
   */
  private searchSpans(tokens: string[]): SpanMatch | undefined {
    if (!this.crossBranch) return undefined;
    const n = tokens.length;
    let best: SpanMatch | undefined;
    let bestSim = -1;
    let budget = this.maxScan;
    // Some text must agree outside the run (anchors): a template of bare values says nothing.
    const consider = (c: Cluster, [sim, , anchors]: [number, number, number], found: SpanMatch) => {
      if (anchors >= 1 && sim >= this.similarity && (sim > bestSim || (sim === bestSim && best !== undefined && c.seq < best.cluster.seq))) {
        best = found;
        bestSim = sim;
      }
    };
    for (let d = 1; d <= MAX_SPAN && budget > 0; d++) {
      // Shorter templates: message tokens j..j+d are one value.
      const shorter = this.byLength.get(n - d);
      if (shorter && n - d > 1) {
        const all = shorter.all;
        const m = n - d;
        for (let i = all.length - 1; i >= 0 && budget > 0; i--, budget--) {
          const c = all[i];
          const [lo, hi] = spanWindow(c.tokens, tokens);
          for (let j = lo; j <= hi; j++) {
            if (j + 1 >= m || !isValueLike(c.tokens[j]) || !runIsValue(tokens, j, j + d) || !bounded(c.tokens, j, tokens, j + d)) continue;
            const aligned = [...tokens.slice(0, j), tokens.slice(j, j + d + 1).join(' '), ...tokens.slice(j + d + 1)];
            consider(c, this.sim(c, aligned, c.tokens, j), { cluster: c, aligned });
            break;
          }
        }
      }
      // Longer templates: template tokens j..j+d are one value.
      const longer = this.byLength.get(n + d);
      if (longer && n > 1) {
        const all = longer.all;
        for (let i = all.length - 1; i >= 0 && budget > 0; i--, budget--) {
          const c = all[i];
          const [lo, hi] = spanWindow(tokens, c.tokens);
          for (let j = lo; j <= hi; j++) {
            if (j + 1 >= n || !isValueLike(tokens[j]) || !runIsValue(c.tokens, j, j + d) || !bounded(tokens, j, c.tokens, j + d)) continue;
            const key = sameKey(c.tokens[j], tokens[j]);
            const template = [...c.tokens.slice(0, j), key ? `${key}${WILDCARD}` : WILDCARD, ...c.tokens.slice(j + d + 1)];
            consider(c, this.sim(c, tokens, template, j), { cluster: c, template });
            break;
          }
        }
      }
    }
    return best;
  }

  private collectLeaves(node: Node, tokens: string[], i: number, depth: number, out: Node[]): void {
    if (i === depth) {
      if (node.clusters.length) out.push(node);
      return;
    }
    const t = tokens[i];
    if (!isVariable(t)) {
      const exact = node.children.get(t);
      if (exact) this.collectLeaves(exact, tokens, i + 1, depth, out);
    }
    const wild = node.children.get(WILDCARD);
    if (wild) this.collectLeaves(wild, tokens, i + 1, depth, out);
  }

  /**
   * [similarity, wildcard positions, anchors] of a same-length template. Positions where the
   * message holds a masked value that the template also has there (the same placeholder, or
   * `<*>`) say nothing about the template's constant text and are left out; the similarity is
   * the share of the other positions whose token the template has. A template `<*>` facing a
   * literal word counts as a difference, as in Drain, so a template cannot collapse into
   * matching everything of its length. Anchors: positions that agree on some text — an equal
   * word, an equal `key=<num>`, two values of one key. Position `skip` (a value spanning other
   * tokens, searchSpans) is a value by construction: left out.
   */
  private sim(c: Cluster, tokens: string[], template = c.tokens, skip = -1): [number, number, number] {
    this.oneDifferenceAt = -1;
    let kinds = false;
    let eq = 0;
    let total = 0;
    let wild = 0;
    let anchors = 0;
    let values = 0;
    // Differing words and key values are judged (keyword, outcome, settled constant) only if the
    // similarity reaches the threshold: most candidates fail on the count alone, cheaply.
    const words = this.differingWords;
    const keys = this.differingKeys;
    const slots = this.wordsInSlots;
    words.length = 0;
    keys.length = 0;
    slots.length = 0;
    const n = tokens.length;
    // A line that ends in a colon heads what follows it (RabbitMQ's `closing AMQP connection … ):`
    // before the reason on the next line); the same words without it are a line of their own.
    if (n > 1 && headsNext(template[n - 1]) !== headsNext(tokens[n - 1])) return NO_MATCH;
    for (let i = 0; i < n; i++) {
      const t = template[i];
      const m = tokens[i];
      if (i === skip) {
        wild++;
      } else if (t === WILDCARD) {
        wild++;
        // A value (masked, or not a word: `action:android.intent.TIME_TICK`) fills the slot.
        if (hasPlaceholder(m) || (!this.literal && this.valueAt(tokens, i))) continue;
        slots.push(i);
        total++;
        if (this.missed(n - i - 1, eq, total)) return NO_MATCH;
      } else if (t === m) {
        if (hasPlaceholder(m)) {
          if (hasLetterOutsidePlaceholders(m)) anchors++;
          continue;
        }
        eq++;
        total++;
      } else if (sameKey(t, m) || (mayNameValue(t, m) && sameTail(t, m))) {
        if (namedAgainstUnnamed(t, m)) return NO_MATCH;
        keys.push(i);
        anchors++;
      } else if (mayNameValue(t, m) && (namedAgainstUnnamed(t, m) || sameTail(t, m, true))) {
        // no name against a name, or a failure where the other has a name (`exited(code=0)` / `crashed(code=139)`)
        return NO_MATCH;
      } else if (hasPlaceholder(m) && hasPlaceholder(t) && skeleton(m) === skeleton(t)) {
        // two values of one shape: left out — unless of two kinds (`lifetime <1 sec` / `lifetime 00:02`)
        if (!sameValueKind(t, m)) kinds = true;
      } else if (i === 0 && ((isMethodName(t) && isMethodName(m)) || (isModuleCall(t) && isModuleCall(m)))) {
        // Two methods or modules opening a message (klog's `"operationExecutor.MountVolume
        // started …"` / `"operationExecutor.VerifyControllerAttachedVolume …"`, PAM's
        // `pam_unix(sshd:session):` / `pam_unix(cron:session):`): two sources, as two loggers.
        return NO_MATCH;
      } else if (!this.literal && this.valueAt(tokens, i) && (isPlainValue(t) || quotedName(template, i) || (i === 0 && isContextTag(t)) || (opensQuotedValue(template, i) && template[i - 1] === tokens[i - 1])) && !differentFields(t, m)) {
        // Two values that are not words (`com.acme/.MainUI:`, `svchost.exe`): left out, as masked ones are.
        keys.push(i);
        values++;
      } else {
        words.push(i);
        total++;
        // Too many differences for the rest to make up: below the threshold whatever follows.
        if (this.missed(n - i - 1, eq, total)) return NO_MATCH;
      }
      // (two differently shaped values of one field, `#<*>#` and `#<*>#<*>`, are left out)
    }
    // Values left out need a word in common: a message of bare values is no evidence for a template of others.
    if (values > 0 && eq === 0) return NO_MATCH;
    if (kinds) return NO_MATCH;
    let sim = total === 0 ? 1 : eq / total;
    // Below the threshold by one differing word among two equal ones or more (`Unknown command
    // foo` against `Unknown command bar`): enough where the template has a `<*>` there already
    // (the position is known to vary), else noted for search()'s count of such templates.
    let oneDifference = -1;
    if (sim < this.similarity && total - eq === 1 && eq >= ONE_DIFFERENCE_NEEDS) {
      oneDifference = words.length ? words[0] : slots[0];
      // Not the first word: a message's subject there (`tickTime set to <num>`, `sshd startup
      // succeeded`) keeps its templates apart in real logs' ground truth.
      if (oneDifference === 0) oneDifference = -1;
      else if (template[oneDifference] === WILDCARD) {
        sim = this.similarity;
        oneDifference = -1;
      }
    }
    // One plain word that differs right before a value names that value's kind (`web application
    // archive [<path>]` / `… directory [<path>]`, `Start proc <*> for service <*>` / `… for
    // activity <*>`): two kinds of message, as ground truth keeps them — until SIBLINGS_TO_MERGE
    // templates differ there (then it is a value after all). Not where the word before says a
    // name follows (`user alice <ip>`: a value from the first).
    else if (sim >= this.similarity && total - eq === 1 && words.length === 1 && this.namesKind(template, tokens, words[0])) {
      oneDifference = words[0];
      sim = this.similarity * (1 - Number.EPSILON);
    }
    if (sim < this.similarity && oneDifference < 0) return [sim, wild, eq + anchors];
    const stable = this.stableAfter > 0 && c.count >= this.stableAfter;
    // Two words in a row that differ, lower-case both sides, are another phrase, not a value
    // (nginx's `upstream prematurely closed connection` / `… server temporarily disabled`,
    // BGL's `: No child processes` / `: Bad file descriptor`): two templates.
    for (let k = 1; k < words.length; k++) {
      const i = words[k];
      if (words[k - 1] === i - 1 && isPhraseWord(template[i]) && isPhraseWord(tokens[i]) && isPhraseWord(template[i - 1]) && isPhraseWord(tokens[i - 1])) return NO_MATCH;
    }
    // Two states (`action:android.intent.action.SCREEN_ON` / `…SCREEN_OFF`, `plugged=true` /
    // `plugged=false`) where nothing else differs (or a few flags together): two events. Beside another value that varies
    // (Android's `Unable to start service Intent { act=<*> pkg=<*> }`) one more parameter — and
    // flags that vary together would otherwise make a template per combination.
    const onlyDifference = words.length + keys.length === 1 || onlyFlagsDiffer(template, tokens, words, keys);
    for (const i of words) {
      const t = template[i];
      const m = tokens[i];
      if (stable && !isVariable(t) && !isVariable(m)) return NO_MATCH;
      if (isKeyword(t) && isKeyword(m)) return NO_MATCH;
      if (onlyDifference && namesState(t) && namesState(m)) return NO_MATCH;
      if (isGerund(t) && isGerund(m)) return NO_MATCH; // error reading / error writing: two actions
      if (DIRECTIONS.has(t) && DIRECTIONS.has(m)) return NO_MATCH; // connection from <ip> / … to <ip>: in, out
      if (answersOutcomeLabel(template, tokens, i)) return NO_MATCH; // state 'running' / state 'dead'
      // nor a masked value against one (`E11000` / `ECONNREFUSED`: two codes)
      if ((hasPlaceholder(t) && isKeyword(m) && !hasPlaceholder(m)) || (hasPlaceholder(m) && isKeyword(t) && !hasPlaceholder(t))) return NO_MATCH;
      if (outcomesDiffer(t, m, true)) return NO_MATCH;
      if (namesErrorType(t) || namesErrorType(m)) return NO_MATCH; // NullPointerException / IllegalStateException
      if (statusClassOf(t) !== undefined || statusClassOf(m) !== undefined) return NO_MATCH; // `HTTP/1.1" 5xx` / `HTTP/1.1" <num>`
      if (differentFields(t, m)) return NO_MATCH; // result=success / state=declined, disk:critical / memory:critical
      if (isEmptyValue(t) !== isEmptyValue(m)) return NO_MATCH; // connection from <ip> () / (host.example.com)
      if (i > 0 && i + 1 < tokens.length && isLabel(t) && isLabel(m) && isVariable(tokens[i + 1])) return NO_MATCH;
    }
    for (const i of keys) {
      if (sameKey(template[i], tokens[i]) && isKeyword(unquotedValue(template[i])) && isKeyword(unquotedValue(tokens[i]))) return NO_MATCH; // apparmor=ALLOWED / apparmor=AUDIT, quoted or not
      if (onlyDifference && namesState(template[i]) && namesState(tokens[i])) return NO_MATCH;
      if (outcomesDiffer(template[i], tokens[i])) return NO_MATCH; // level=info / level=error
      if (namesErrorType(template[i]) || namesErrorType(tokens[i])) return NO_MATCH; // two error types, or one values made a slot
      if (template[i].endsWith(WILDCARD) && isFailureWord(tokens[i])) return NO_MATCH; // phase=<*> / phase=Failed
    }
    // A failure never joins a slot that other words made a value (`status=<*>` of ready/started).
    // Nor does an upper-case keyword (`ECONNREFUSED`, `SIGSEGV` after `E<*>` made a slot) — unless
    // in brackets, where upper case is a name (Tomcat's `[ROOT]` web application among `[shop]`).
    for (const i of slots) if (saysOutcome(tokens[i]) || isEmptyValue(tokens[i]) || (isKeyword(tokens[i]) && tokens[i].charCodeAt(0) !== 91)) return NO_MATCH;
    this.oneDifferenceAt = oneDifference;
    return [sim, wild, eq + anchors];
  }


  /** Is tokens[i] (and template[i], a different word) a lower-case word naming the kind of the value after it (see sim)? */
  private namesKind(template: string[], tokens: string[], i: number): boolean {
    if (i + 1 >= tokens.length || !isLowerCaseWord(template[i]) || !isLowerCaseWord(tokens[i])) return false;
    if (!hasPlaceholder(tokens[i + 1]) && (this.literal || !this.valueAt(tokens, i + 1))) return false;
    // First in the message before a name in double quotes, it names what the name is (PostgreSQL's
    // `relation "<*>"` / `column "<*>"`); before other values a first word is as often a
    // service or a user (`orders <ip> registered …`).
    if (i === 0) return tokens[1].charCodeAt(0) === 34 && isQuotedWord(tokens[1]);
    return !NAME_FOLLOWS.has(wordBefore(tokens[i - 1]));
  }

  /** With `remaining` positions still to compare, eq equal of total so far: can no longer reach the threshold. */
  private missed(remaining: number, eq: number, total: number): boolean {
    const differences = total - eq;
    return remaining + eq < (differences === 1 ? Math.min(ONE_DIFFERENCE_NEEDS, this.bailRatio) : this.bailRatio * differences);
  }

  /** isPlainValue(tokens[i]) or the opening of a labelled quoted value (opensQuotedValue), remembered for this message: a flood of new messages compares each with many templates. */
  private valueAt(tokens: string[], i: number): boolean {
    if (tokens !== this.valueFlagsOf) {
      this.valueFlagsOf = tokens;
      if (this.valueFlags.length < tokens.length) this.valueFlags = new Int8Array(tokens.length * 2);
      else this.valueFlags.fill(0, 0, tokens.length);
    }
    let f = this.valueFlags[i];
    if (f === 0) this.valueFlags[i] = f = isPlainValue(tokens[i]) || quotedName(tokens, i) || (opensQuotedValue(tokens, i) && !saysOutcome(tokens[i])) || (i === 0 && tokens.length > 1 && isContextTag(tokens[0])) ? 1 : 2;
    return f === 1;
  }

  // --- update ----------------------------------------------------------------------------

  private generalize(c: Cluster, tokens: string[]): boolean {
    let changed = false;
    let prefixChanged = false;
    const t = c.tokens;
    for (let i = 0; i < t.length; i++) {
      if (t[i] !== WILDCARD && t[i] !== tokens[i]) {
        if (!changed) c.tokens = t.slice();
        // Two values of one key (`tag="View"`, `tag="Lock"`): the key stays, the value varies.
        const key = sameKey(t[i], tokens[i]);
        c.tokens[i] = key ? `${key}${WILDCARD}` : (sameTail(t[i], tokens[i]) ?? (i === t.length - 1 && headsNext(t[i]) && headsNext(tokens[i]) ? HEADING_SLOT : WILDCARD)); // a heading line stays one (see sim)
        if (c.tokens[i] === t[i]) continue;
        changed = true;
        if (i < this.prefixDepth && !isVariable(t[i])) prefixChanged = true;
      }
    }
    if (changed) {
      c.text = undefined;
      if (prefixChanged) {
        // Re-index under the wildcard branch (same token count, same id).
        const saved = c.tokens;
        c.tokens = t;
        this.unindex(c);
        c.tokens = saved;
        this.index(c);
      }
    }
    return changed;
  }
}

/** The template takes these tokens as they are: generalize() would change nothing (each position equal, `<*>`, or `key=<*>` of the same key). */
function absorbs(template: readonly string[], tokens: readonly string[]): boolean {
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t === WILDCARD || t === tokens[i]) continue;
    const key = sameKey(t, tokens[i]);
    if (key ? `${key}${WILDCARD}` !== t : sameTail(t, tokens[i]) !== t) return false;
  }
  return true;
}

/**
 * Two masked tokens hold values of one kind: not a duration against a time of day, nor a
 * number against an address. Kinds that one field is written in interchangeably are one kind:
 * a number, a hex number and a uuid (an id), an IP address and a host name, a path and a URL, a
 * date and a time.
 */
function sameValueKind(a: string, b: string): boolean {
  const x = kindOf(a);
  const y = kindOf(b);
  return x === undefined || y === undefined || x === y;
}
/** The kind of a token that is one typed placeholder in punctuation (`(<time>)`), else undefined. */
function kindOf(token: string): string | undefined {
  const open = token.indexOf('<');
  const close = token.indexOf('>', open);
  if (open < 0 || close < 0 || token.indexOf('<', close) >= 0) return undefined;
  for (let i = 0; i < open; i++) if (!OPENERS.includes(token[i])) return undefined;
  for (let i = close + 1; i < token.length; i++) if (!CLOSERS.includes(token[i])) return undefined;
  return VALUE_KIND[token.slice(open + 1, close)];
}
const VALUE_KIND: Record<string, string> = { num: 'n', hex: 'n', uuid: 'n', ip: 'a', host: 'a', path: 'p', url: 'p', date: 't', time: 't', duration: 'd', size: 's', mac: 'm', email: 'e' };

/**
 * Where a name is followed by its value (the index where the value starts), else -1: in
 * parentheses (`margaret_bak(uid=501)`, `LOGIN(uid=0)`: `name(uid=<num>)` once masked; the value
 * must hold a masked part, the name none but a template's `<*>`), or an address after a colon
 * (Cisco's interfaces, `outside:<ip>` / `dmz:<ip>`).
 */
function namedValueAt(token: string, anyName = false): number {
  const last = token.charCodeAt(token.length - 1);
  const colon = token.indexOf(':<ip>');
  if (colon > 0 && (token.length === colon + 5 || CLOSERS.includes(token[colon + 5]))) {
    const head = token.slice(0, colon);
    return head === WILDCARD || (INTERFACE_NAME.test(head) && (anyName || !isOutcomeWord(head))) ? colon : -1;
  }
  if (last !== 41) return -1;
  const open = token.indexOf('(');
  if (open <= 0 || !hasPlaceholder(token.slice(open))) return -1;
  const head = token.slice(0, open);
  return head === WILDCARD || (!hasPlaceholder(head) && (anyName || !saysOutcome(head))) ? open : -1;
}
/** Could either token be a name before its value (namedValueAt)? A cheap test first: sim() asks it of every differing pair. */
function mayNameValue(a: string, b: string): boolean {
  return a.charCodeAt(a.length - 1) === 41 || b.charCodeAt(b.length - 1) === 41 || a.includes(':<ip>') || b.includes(':<ip>');
}
/** An interface's name: lower case, and no state or outcome (`down:<ip>`, `ok:<ip>` keep theirs). */
const INTERFACE_NAME = /^[a-z][\w-]*$/;
/**
 * Two names with the same value after them (`eric(uid=<num>)`, `zhao(uid=<num>)`; `outside:<ip>`,
 * `dmz:<ip>`): `<*>(uid=<num>)`, `<*>:<ip>`, the name the variable; else undefined. A failure
 * there is no name (`crashed(code=<num>)`, `down:<ip>`) unless anyName.
 */
function sameTail(a: string, b: string, anyName = false): string | undefined {
  const i = namedValueAt(a, anyName);
  const j = namedValueAt(b, anyName);
  if (i < 0 || j < 0 || a.length - i !== b.length - j || !a.endsWith(b.slice(j))) return undefined;
  return `${WILDCARD}${a.slice(i)}`;
}
/**
 * A value with a name before it against the same value without one (`by zhao(uid=<num>)` /
 * `by (uid=<num>)`: a user named against none): two kinds of message, as an empty value
 * against a filled one (isEmptyValue).
 */
function namedAgainstUnnamed(a: string, b: string): boolean {
  const unnamed = a.charCodeAt(0) === 40 ? a : b.charCodeAt(0) === 40 ? b : undefined;
  if (unnamed === undefined || unnamed === (a === unnamed ? b : a)) return false;
  const named = unnamed === a ? b : a;
  const i = namedValueAt(named, true);
  return i > 0 && named.length - i === unnamed.length && named.endsWith(unnamed);
}

/**
 * The `key=` both tokens start with (`tag="a"`, `tag=<*>`), when they are values of one key;
 * undefined otherwise. Such positions are one field whose value varies, as a masked value is.
 */
function sameKey(a: string, b: string): string | undefined {
  const i = a.indexOf('=');
  if (i <= 0 || i > 40 || b.length <= i || b.charCodeAt(i) !== 61 || !b.startsWith(a.slice(0, i))) return undefined;
  return a.slice(0, i + 1);
}
