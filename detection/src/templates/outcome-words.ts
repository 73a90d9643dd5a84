// Words that say how something went or what state it is in. Two messages that differ in such a
// word are two kinds of message, never one template with `<*>` there: "Health check passed"
// and "Health check failed" must not share an incident, however much of the rest they share
// (an online miner sees the first failure while the success template is still young, and a
// Drain-style similarity would merge them). A user name, a host or a table name is a value;
// `failed`, `lost`, `started` and `stopped` are not.

/** Failure words: one of them facing any other word is a different kind of message. */
const FAILURE = new Set(
  'fail failed failing fails failure failures error errors errored fatal panic panicked crit critical denied refused rejected reject lost timeout timeouts timedout unable cannot unreachable unavailable unhealthy offline aborted abort aborting exception crashed crash killed dropped missing broken corrupt corrupted degraded warn warning forbidden unauthorized mismatch overflow exceeded violation invalid expired reset disconnected down evicted oomkilled crashloopbackoff backoff throttled notready declined deny denies disallowed revoked rollback rolled_back rolledback not_found timed_out timed-out drop bounced voided chargeback lagging out_of_sync nodenotready fault segfault oom exhausted emerg alert deadlock deadlocked diverged orphaned split-brain readonly read-only infected unverified out_of_stock zombie reversed imagepullbackoff errimagepull'.split(' '),
);

/** Outcome, lifecycle and level words: two different ones face to face are two kinds of message. */
const STATES = new Set(
  'startup shutdown boot reboot ok okay success succeeded successful successfully passed pass established connected accepted up healthy online ready completed complete done won granted allowed recovered restored resolved valid alive available start started starting stop stopped stopping restart restarted restarting reload reloaded reloading open opened opening close closed closing create created creating delete deleted deleting enable enabled disable disabled mount mounted mounting unmount unmounted pause paused resume resumed suspend suspended add added remove removed update updated begin began end ended enter entered exit exited exiting login logout attach attached detach detached lock locked unlock unlocked acquire acquired release released spawn spawned destroy destroyed load loaded unload unloaded sleep wake woke activated deactivated registered unregistered joined left elected promoted demoted synced scheduled cancelled canceled retrying retry skipped skipping finished finishing hit miss missed active inactive standby blocked block approved approve allow permit permitted accept commit committed delivered sent deferred refunded captured settled in_sync nodeready green yellow red leader follower primary secondary replica master slave candidate pending running waiting terminated info debug trace notice set cleared raised'.split(' '),
);

/** The word of a token, lower-case, without surrounding punctuation and without a `key=` / `key:` before it. */
function wordOf(token: string): string {
  let s = 0;
  let e = token.length;
  const eq = token.indexOf('=');
  if (eq > 0 && eq < e - 1) s = eq + 1;
  while (s < e && isPunctuation(token.charCodeAt(s))) s++;
  while (e > s && isPunctuation(token.charCodeAt(e - 1))) e--;
  for (let i = s; i < e; i++) {
    const c = token.charCodeAt(i);
    // not one plain word (`can't`, `exit-code` and `rolled_back` are)
    if (!isLetter(c) && c !== 39 && !((c === 45 || c === 95) && i > s && i < e - 1 && isLetter(token.charCodeAt(i + 1)))) return '';
  }
  return token.slice(s, e).toLowerCase();
}

/** Not a letter, a digit or a placeholder's `<`/`>`: a token with those is a value, not a word. */
function isPunctuation(c: number): boolean {
  return !isLetter(c) && !(c >= 48 && c <= 57) && c !== 60 && c !== 62;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** An HTTP status class as the masks write it (`status=5xx`, `"GET /x HTTP/1.1" 5xx`): `5`, else undefined. */
export function statusClassOf(token: string): string | undefined {
  if (token.indexOf('xx') < 0) return undefined;
  const m = STATUS_CLASS.exec(token);
  return m ? m[1] : undefined;
}
const STATUS_CLASS = /(?:^|=)["'(\[]?([1-5])xx(?![A-Za-z0-9])/;

/**
 * `on`/`off`, `yes`/`no` as words of a message say a state ("scanner Powered On" / "… Off",
 * "slave io running: Yes" / "No"); as the value of a key (`tls=on`) they are a setting, a value
 * like true/false.
 */
const SWITCHES = new Set(['on', 'off', 'yes', 'no']);

/**
 * Do these two different tokens say different outcomes or states (so they cannot be one `<*>`)?
 * `words`: the tokens are words of the text, not values of one key.
 */
export function outcomesDiffer(a: string, b: string, words = false): boolean {
  if (outcomeKeyValuesDiffer(a, b)) return true;
  const ca = statusClassOf(a);
  if (ca !== undefined) {
    const cb = statusClassOf(b);
    if (cb !== undefined && cb !== ca) return true;
  }
  const x = wordOf(a);
  const y = wordOf(b);
  if (x === '' || y === '') return false;
  // One outcome in two spellings (`failed` / `FAILED`) is never a `<*>` that any other outcome
  // could then fill: two templates, as real logs' ground truth keeps case variants apart.
  if (x === y) return FAILURE.has(x) || STATES.has(x);
  if (FAILURE.has(x) || FAILURE.has(y)) return true;
  if (words && SWITCHES.has(x) && SWITCHES.has(y)) return true;
  // A word and its negation are opposite states (Vault's `sealed` / `unsealed`, `loaded` / `unloaded`, `reachable` / `unreachable`)
  if (negates(x, y) || negates(y, x)) return true;
  return STATES.has(x) && STATES.has(y);
}

/** Is `a` the negation of `b` by a prefix (`unsealed` of `sealed`, `disconnected` of `connected`, `inactive` of `active`, `nonzero` of `zero`)? */
function negates(a: string, b: string): boolean {
  if (b.length < 4) return false;
  for (const p of NEGATIONS) if (a.length === b.length + p.length && a.startsWith(p) && a.endsWith(b)) return true;
  return false;
}
const NEGATIONS = ['un', 'dis', 'in', 'non', 'non-', 'de'];

/**
 * Keys whose value says how something went (`success=true` / `success=false`, `ok=1` / `ok=0`):
 * two values of such a key are two outcomes. Of any other key (`cached=true`), a value.
 */
const OUTCOME_KEYS = new Set('success succeeded successful ok passed failed failure error errored healthy valid approved authorized verified completed accepted'.split(' '));

function outcomeKeyValuesDiffer(a: string, b: string): boolean {
  const eq = a.indexOf('=');
  if (eq <= 0 || eq > 24 || b.charCodeAt(eq) !== 61 || !b.startsWith(a.slice(0, eq))) return false;
  let s = 0;
  while (s < eq && (a.charCodeAt(s) === 34 || a.charCodeAt(s) === 39)) s++;
  let e = eq;
  while (e > s && (a.charCodeAt(e - 1) === 34 || a.charCodeAt(e - 1) === 39)) e--;
  return OUTCOME_KEYS.has(a.slice(s, e).toLowerCase()) && a.slice(eq + 1) !== b.slice(eq + 1);
}

/** A failure word on its own (`failed`, `"unhealthy",`, `status=Failed`). */
/** Does the token's word say how something went or what state it is in (a failure, an outcome, a state, a switch)? */
export function isOutcomeWord(token: string): boolean {
  const w = wordOf(token);
  return w !== '' && (FAILURE.has(w) || STATES.has(w) || SWITCHES.has(w));
}

export function isFailureWord(token: string): boolean {
  const w = wordOf(token);
  return w !== '' && FAILURE.has(w);
}

/** A failure word anywhere among a token's letter runs (`(checksum:MISMATCH)`, `fsck:errors`, `ERR:timeout`). */
export function hasFailureWord(token: string): boolean {
  let start = -1;
  for (let i = 0; i <= token.length; i++) {
    const letter = i < token.length && isLetter(token.charCodeAt(i));
    if (letter && start < 0) start = i;
    else if (!letter && start >= 0) {
      if (i - start >= 3 && FAILURE.has(token.slice(start, i).toLowerCase())) return true;
      start = -1;
    }
  }
  return false;
}

/**
 * Whether a token says how something went, in any of its letter runs (`Status:die`,
 * `"phase":"Failed"`, `Sealed:true`, `SIGSEGV`, `exit_code=137`): an outcome, state or failure
 * word, a boolean, an upper-case code, an error type, or a label for one (status, state, phase,
 * result, reason, code, error, exit). A list holding one is no single value (masks.ts).
 */
export function saysHowItWent(token: string): boolean {
  if (namesErrorType(token)) return true;
  let start = -1;
  for (let i = 0; i <= token.length; i++) {
    const letter = i < token.length && isLetter(token.charCodeAt(i));
    if (letter && start < 0) start = i;
    else if (!letter && start >= 0) {
      const run = token.slice(start, i);
      const lower = run.toLowerCase();
      if (FAILURE.has(lower) || STATES.has(lower) || SWITCHES.has(lower) || HOW_IT_WENT_LABELS.has(lower)) return true;
      start = -1;
    }
  }
  // An upper-case code, a whole word (`SIGSEGV`, `ENOSPC`, `Status:NXDOMAIN`; not the capitals inside a random id, `BRX6hw8j`)
  return UPPER_CODE.test(token);
}
const UPPER_CODE = /(?:^|[^A-Za-z0-9_])[A-Z][A-Z_]{2,}[0-9]*(?![A-Za-z0-9_])/;
const HOW_IT_WENT_LABELS = new Set(['status', 'state', 'phase', 'result', 'results', 'reason', 'code', 'error', 'exit', 'outcome', 'true', 'false', 'sealed', 'healthy', 'health']);

/**
 * An exception or error type in a token (`java.lang.NullPointerException:`, `ValueError`,
 * `IOException`): what kind of failure it was. Two different ones are two problems, as Sentry
 * groups by exception type, and none is a value of a `<*>` slot.
 */
export function namesErrorType(token: string): boolean {
  return ERROR_TYPE.test(token);
}
const ERROR_TYPE = /[A-Z][A-Za-z0-9_]*(?:Exception|Error)(?![A-Za-z0-9_])/;
