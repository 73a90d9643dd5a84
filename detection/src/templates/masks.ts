// Masks for log-template mining: one pass over the message splits it into whitespace-separated
// tokens, and each token is classified on its own (cheap tests on a short string, no regex pass
// over the whole message). A token that is a variable value becomes a typed placeholder
// (`<ip>`, `<num>`, ...); a token that only holds values (`blk_-695…`, `uid=0`,
// `appattempt_1445_0020_000001`) keeps its literal parts and has the values masked as `<*>`.
//
// Rules (general, not tied to any log source):
// - Wrapping punctuation is kept as is: `(uid=0),` → `(uid=<*>),`; `[10.0.0.1]` → `[<ip>]`.
// - Host names: two or more DNS labels ([A-Za-z0-9-], no `_`, `$`, `/`) whose last label is a
//   known top-level domain (com, net, org, io, local, internal, …, country codes). So
//   `mail.example.com` and `dn228.cluster.local` are hosts, while `org.apache.Foo`,
//   `dfs.DataNode$PacketResponder`, `java.lang.String` and `wcp.dll` are not (their last label
//   is no TLD, or they hold characters a host name cannot): class and file names are
//   constants of the template. A label-only name with digits (`node-246.rack3`) that is no
//   host still gets its digits masked by the generic rule below.
// - Generic rule: any other token with a digit has each letter-digit run that holds a digit
//   masked as `<*>` (a `-` sign right before a run belongs to it, so `blk_-1` and `blk_1`
//   mask alike); tokens without digits are words and stay literal (the miner generalizes them).
//   An upper-case word ending in a number keeps its letters (`SOCKS5` → `SOCKS<*>`, `CPU3` →
//   `CPU<*>`; not when its letters could be hex): a keyword with a version or an index.
// - ANSI colour codes are dropped; `true` and `false` (any case) are values: `<*>`.
// - An HTTP status of a status key keeps its class: `status=503` → `status=5xx` (the miner keeps
//   classes apart: a failed request never shares a template with a served one).
//   In free text a server error after an HTTP context (`"GET /x HTTP/1.1" 503`, `status: 503`,
//   `returned 503`) is `5xx`; other statuses there stay numbers.
// - An exception type with a digit in its name (`AmazonS3Exception`) is a name, kept.
// - A long message is mined as its first 48 tokens, `…` and its last 16 (only windows of
//   maxChars at most are read): the end of a long line often names the cause.
// - Kubernetes' generated names keep their base: the 5-character random suffix and the
//   pod-template hash, drawn from Kubernetes' vowel-free alphabet, are values
//   (`kube-api-access-bwqgf` → `kube-api-access-<*>`, `web-7fd8b6f5c9-x2k4p` → `web-<*>-<*>`).
// - A stack frame's call site (`com.acme.Foo.bar(Foo.java:42)`, `a.B.m(Native Method)`, with
//   Java 9's module or class-loader prefix `java.base/…`, `app//…`, `java.base@17.0.2/…`,
//   `(Unknown Source)`, `(<generated>)`) is one value, `<*>`: every frame line is `at <*>`.
// - A number after a bound is a number: `<1 sec` is a duration like `3 sec`.
// - Dates spelled with words (`Sun Jul 10 03:55:15 2005`, syslog `Jun 14 15:16:01`) are
//   recognized across tokens: a weekday before a month name, or a month name before a day
//   number, start a date that absorbs the following day, time and year tokens; the whole date
//   becomes one `<date>` token.
// - Values that span tokens are one: a number and its unit (`4.5 KB`, `150 ms`) or its ISO
//   currency code (`21.78 EUR` → `<num>`); a quoted value of several words after a `label:`
//   (`user_agent: "Mozilla/5.0 (X11; …)"` → `"<*>"`), unless a failure word is in it; the
//   query after a label that says code follows (`statement: SELECT …`, `execute S_1: …` → `<*>`,
//   the rest of the message), with the same exception; the name after a lifecycle verb opening
//   a message (systemd's `Starting Daily apt download activities...`, Jenkins' `Finished
//   Workspace clean-up. 5 ms` → `Finished <*>. <duration>`): capitalized words up to a full stop;
//   a bracketed list of several items (`[orders.payments-0, orders.payments-7]`) → its items'
//   one mask (`[orders.payments-<*>]`, as a list of one), or `[<*>]` when they differ — not
//   when an item says how something went (`[ok, timeout]`, `[TimeoutException, …]`); an error's
//   argument naming what is unknown or missing (`UnknownJailException('sshd')` →
//   `UnknownJailException('<*>')`), the same;
//   a `…_name` key's unquoted value at the end of key=value pairs runs to the end of the message
//   (`application_name=PostgreSQL JDBC Driver` → `application_name=<*>`); an SQL statement in
//   a message's middle, after `query` up to its `;` or in quotes (Cassandra's `for query SELECT
//   … LIMIT 100; token …`, `during query 'SELECT … WHERE day = '2024-03-12''`), one value; an
//   SSH key's type and fingerprint (`RSA SHA256:kT3…`), one value.
// - An IPv4 address with a port or prefix after a slash (`10.0.0.5/9320`, `10.0.0.0/8`) is one
//   `<ip>`; after a name and a colon (`outside:10.1.9.70/5555`) the name stays (the miner
//   makes it vary where it does: `<*>:<ip>`).
import { hasFailureWord, isOutcomeWord, namesErrorType, saysHowItWent } from './outcome-words.js';

/** ANSI escape sequences (CSI: colours, cursor moves). */
const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

/** The generalized-variable placeholder (a position whose values differ). */
export const WILDCARD = '<*>';

/** Placeholders a whole token can become. */
export const PLACEHOLDERS = ['<*>', '<ip>', '<mac>', '<host>', '<url>', '<path>', '<email>', '<uuid>', '<hex>', '<num>', '<size>', '<duration>', '<date>', '<time>'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Longest first line mined whole by default (characters); a longer one is mined as its head and tail. */
export const DEFAULT_MAX_CHARS = 1024;

// Generic TLDs and the country codes that are rarely also a file extension or an identifier
// word (`.id`, `.is`, `.in`, `.it`, `.sh`, `.pl`, `.py`, `.md`, `.cc`, `.rs`, … are left out:
// `mapred.task.id` and `run.sh` are no hosts).
const TLDS = new Set(
  (
    'com net org edu gov mil int info biz mobi arpa io cloud online site xyz ' +
    'us uk eu de fr nl ch se dk fi ie cz hu ro gr ru ua cn jp kr tw hk sg au nz ca mx br ar za ' +
    'local localhost localdomain internal intranet lan corp home intra'
  ).split(' '),
);

const MONTHS = new Set('jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august september october november december'.split(' '));
const WEEKDAYS = new Set('mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday saturday sunday'.split(' '));

const UUID_G = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
const URL = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/\S/;
const EMAIL = /^[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const IPV4 = /^\/?(?:\d{1,3}\.){3}\d{1,3}(?:\/\d{1,5})?(?::\d{1,5})?$/;
const IPV6 = /^\[?[0-9a-fA-F:]*:[0-9a-fA-F:]*(?:%\w+)?(?:\.\d{1,3}){0,3}\]?(?::\d{1,5})?(?:\/\d{1,3})?$/;
const MAC = /^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2}){5}$/;
const ZONE = /^(?:[A-Z]{2,5}|[+-]\d{4}|UTC[+-]\d{1,2})$/;
/** A number may start with a sign or a bound (`<1 sec`, `~5 ms`). */
const NUMBER_START = '-+<>~';
const NUMBER_ONLY = /^(?:[<>~]=?)?[-+]?\d+(?:[.,]\d+)?$/;
/** A unit word after a number: group 1 a size unit, group 2 a duration unit (then punctuation). */
/** An ISO 4217 code after an amount, with the punctuation after it. */
const CURRENCY = /^([A-Z]{3})[,;:.)\]]*$/;
const CURRENCIES = new Set('USD EUR GBP JPY CHF CAD AUD NZD CNY HKD SGD INR KRW SEK NOK DKK PLN CZK HUF RON BGN TRY RUB UAH BRL MXN ARS CLP COP PEN ZAR NGN KES EGP ILS AED SAR QAR THB MYR IDR PHP VND TWD ISK'.split(' '));
const UNIT = /^(?:([KMGTPE]i?B|[kmgt]b|B|bytes?)|(ns|us|µs|ms|msec|msecs|s|sec|secs|seconds?|mins?|minutes?|h|hrs?|hours?|days?))(?=[,;:.)\]]*$)/;
const YEAR = /^\d{4}([,;:.)\]]*)$/;
const HEX0X = /^[-+]?0[xX][0-9a-fA-F]+$/;
const HEXWORD = /^[0-9a-fA-F]{4,}$/;
const NUMERIC = /^[-+]?\d[\d.,:/_+-]*$/;
// Without seconds the hour has two digits (`00:02`, `12:30`): `1:10`, `2:47` are counts or
// ratios (Cassandra's `{1:10, 2:47}`), the same kind as `1:5941`, not times of day.
const TIME = /^(?:\d{1,2}:\d{2}:\d{2}|\d{2}:\d{2})(?:[.,:]\d+)?(?:Z|[+-]\d{2}:?\d{2})?$/;
const DATE =
  /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\/[A-Z][a-z]{2}\/\d{4}(?=:|$))(?:[-T_:.,]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;
const SIZE = /^[-+]?\d+(?:\.\d+)?(?:[KMGTPE]i?B|[kKMGTP]|B|bytes?|[kmgt]b)$/;
const DURATION = /^[-+]?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d|days?)$|^\d+h(?:\d+m)?(?:\d+(?:\.\d+)?s)?$|^\d+m\d+(?:\.\d+)?s$/;
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
/**
 * A qualified call site with its source location: `a.b.C.m(C.java:42)`, `C$1.run(C.kt:7)`,
 * `a.B.m(Native Method)`, `a.B.m(Unknown Source)`, `a.B$$X.m(<generated>)`.
 */
/** log4j's packaging data after a stack frame: `~[elasticsearch-7.17.0.jar:7.17.0]`, `[?:?]`, `[na:1.8.0_292]`. */
const JAR_INFO = /^~?\[[^\]\s]*:[^\]\s]*\]$/;
const FRAME = /^(?:[\w$.@-]*\/{1,2})?(?:[A-Za-z_$][\w$]*|0x[0-9a-fA-F]+)(?:\.[\w$<>-]+)+\((?:[\w$-]+\.[A-Za-z]{1,6}(?::\d+)?|Native Method|Unknown Source|<generated>)\)$/;
const WIN_PATH = /^[A-Za-z]:\\/;

const OPENERS = '([{<"\'`';
const CLOSERS = ')]}>"\'`,;:.!?';

/** The longest stretch a quoted key value with spaces is joined over. */
const QUOTED_VALUE_CHARS = 80;

/** `msg`, `message`, `err` or `error` (any case) between start and eq: a logfmt line's message, or its error's (each cause its own template). */
function isMessageKey(text: string, start: number, eq: number): boolean {
  const n = eq - start;
  if (n < 3 || n > 7) return false;
  const key = text.slice(start, eq).toLowerCase();
  return key === 'msg' || key === 'message' || key === 'err' || key === 'error';
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 11 || c === 12;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Host name or FQDN (optionally with a port), by the known-TLD rule in the header. */
export function isHostName(s: string): boolean {
  let name = s;
  const colon = name.lastIndexOf(':');
  if (colon > 0) {
    const port = name.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port)) return false;
    name = name.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  const labels = name.split('.');
  if (labels.length < 2) return false;
  for (const l of labels) if (l.length > 63 || !HOST_LABEL.test(l)) return false;
  return TLDS.has(labels[labels.length - 1].toLowerCase());
}

function isIPv6(s: string): boolean {
  if (s.length < 2 || !IPV6.test(s)) return false;
  let colons = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 58) colons++;
  const inner = s.startsWith('[') ? s.slice(1, s.indexOf(']') > 0 ? s.indexOf(']') : undefined) : s;
  if (inner.includes('::')) return true;
  // Full form: eight groups (seven colons), a port after brackets aside.
  let innerColons = 0;
  for (let i = 0; i < inner.length; i++) if (inner.charCodeAt(i) === 58) innerColons++;
  return innerColons === 7 || (colons >= 7 && innerColons >= 6 && inner.includes('.'));
}

/**
 * The placeholder for a token core (no wrapping punctuation) that is one whole value, or
 * undefined when it is not a whole value.
 */
export function classifyValue(core: string): Placeholder | undefined {
  const n = core.length;
  if (n === 0) return undefined;
  const c0 = core.charCodeAt(0);
  let digits = 0;
  let alphas = 0;
  let hexAlphas = 0;
  let dots = 0;
  let colons = 0;
  let slashes = 0;
  let at = false;
  for (let i = 0; i < n; i++) {
    const c = core.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      alphas++;
      if ((c >= 65 && c <= 70) || (c >= 97 && c <= 102)) hexAlphas++;
    } else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if (c === 47 || c === 92) slashes++;
    else if (c === 64) at = true;
  }
  if (colons > 0 && slashes >= 2 && URL.test(core)) return '<url>';
  if (at && EMAIL.test(core)) return '<email>';
  if (slashes > 0 && (c0 === 47 || c0 === 126 || WIN_PATH.test(core))) {
    if (digits > 0 && IPV4.test(core)) return '<ip>';
    // A path: rooted, with two segments or more (`/var/log/x`, `C:\Windows\x`), or with a digit.
    let segs = 0;
    for (let i = 1; i < n; i++) {
      const c = core.charCodeAt(i);
      if ((c === 47 || c === 92) && i < n - 1) segs++;
    }
    if (segs >= 1 || digits > 0 || WIN_PATH.test(core)) return '<path>';
    return undefined;
  }
  if (n >= 36 && core.includes('-') && UUID_G.test(core)) {
    UUID_G.lastIndex = 0;
    if (core.replace(UUID_G, '') === '') return '<uuid>';
  }
  UUID_G.lastIndex = 0;
  if (digits > 0 && dots === 3 && IPV4.test(core)) return '<ip>';
  if (colons >= 2 && isIPv6(core)) return '<ip>';
  if (n === 17 && (colons === 5 || core.includes('-')) && MAC.test(core)) return '<mac>';
  if (digits > 0 && alphas === 0) {
    if (NUMERIC.test(core)) {
      if (colons > 0 && TIME.test(core)) return '<time>';
      if (DATE.test(core)) return '<date>';
      return '<num>';
    }
    return undefined;
  }
  if (digits > 0) {
    if (HEX0X.test(core)) return '<hex>';
    // Bare hex words with a digit are numbers written in hex (`0000000d` like `00000005`).
    if (alphas === hexAlphas && HEXWORD.test(core)) return '<num>';
    if (dots <= 1 && colons === 0) {
      if (SIZE.test(core)) return '<size>';
      if (DURATION.test(core)) return '<duration>';
    }
    if (DATE.test(core)) return '<date>';
  }
  if (dots > 0 && alphas > 0 && isHostName(core)) return '<host>';
  return undefined;
}

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** Mask letter-digit runs holding a digit (a `-` sign before a run belongs to it). */
function maskRuns(core: string): string {
  let out = '';
  let i = 0;
  const n = core.length;
  let last = 0;
  while (i < n) {
    const c = core.charCodeAt(i);
    if (!isAlnum(c)) {
      i++;
      continue;
    }
    let j = i;
    let hasDigit = false;
    while (j < n && isAlnum(core.charCodeAt(j))) {
      if (isDigit(core.charCodeAt(j))) hasDigit = true;
      j++;
    }
    // An exception or error type with a digit in its name (`AmazonS3Exception`, `Http2Exception`) is a name, not a value.
    if (hasDigit && isErrorTypeName(core, i, j)) hasDigit = false;
    if (hasDigit) {
      let start = i;
      // A sign: `-` right before the run, itself after a non-alphanumeric char or the start.
      if (start > 0 && core.charCodeAt(start - 1) === 45 && (start === 1 || !isAlnum(core.charCodeAt(start - 2)))) start--;
      const runEnd = j;
      // Decimals and dotted numbers: 1.5, 6.1.7601 stay one value.
      while (j + 1 < n && core.charCodeAt(j) === 46 && isDigit(core.charCodeAt(j + 1))) {
        j++;
        while (j < n && isAlnum(core.charCodeAt(j))) j++;
      }
      if (start < last) start = last;
      // An upper-case word ending in a number (`SOCKS5`, `CPU3`, `HTTP2`; not hex like `ABC1`)
      // keeps its letters: a keyword with a version or an index, not an opaque id.
      let upper = i;
      let nonHex = false;
      for (; upper < runEnd && core.charCodeAt(upper) >= 65 && core.charCodeAt(upper) <= 90; upper++) if (core.charCodeAt(upper) > 70) nonHex = true;
      if (start === i && nonHex && upper - i >= 2 && upper < runEnd && allDigits(core, upper, runEnd)) start = upper;
      out += core.slice(last, start) + WILDCARD;
      last = j;
    }
    i = j;
  }
  return last === 0 ? core : out + core.slice(last);
}

/** core[from, to) is a CamelCase name ending in `Exception` or `Error`. */
function isErrorTypeName(core: string, from: number, to: number): boolean {
  const c = core.charCodeAt(from);
  if (c < 65 || c > 90 || to - from < 8) return false;
  return core.startsWith('Exception', to - 9) || core.startsWith('Error', to - 5);
}

/** Mask one value (a token core, or the value of `key=value`). */
function maskCore(core: string): string {
  const placeholder = classifyValue(core);
  if (placeholder) return placeholder;
  // A stack frame's call site (`com.acme.Foo.bar(Foo.java:42)`) is one value.
  if (core.charCodeAt(core.length - 1) === 41 && FRAME.test(core)) return WILDCARD;
  if (core.length >= 36 && core.includes('-')) {
    const replaced = core.replace(UUID_G, '<uuid>');
    UUID_G.lastIndex = 0;
    if (replaced !== core) return maskRuns(replaced);
  }
  const eq = core.indexOf('=');
  if (eq > 0 && eq < core.length - 1) {
    const value = core.slice(eq + 1);
    return core.slice(0, eq + 1) + ((isStatusKey(core, eq) ? statusClass(value) : undefined) ?? maskToken(value));
  }
  // A name, a colon and an address (Cisco's `outside:10.1.9.70/5555`, `dst:10.0.0.1:22`): the name stays.
  const colon = core.indexOf(':');
  if (colon > 0 && colon < core.length - 7 && /[A-Za-z]/.test(core[0]) && classifyValue(core.slice(colon + 1)) === '<ip>' && !core.slice(0, colon).includes('.')) return `${core.slice(0, colon + 1)}<ip>`;
  return maskRuns(core);
}

/** `status=`, `status_code=`, `http_status=`, `response_code=`, `http_code=` (quotes around the key allowed; not `code=`: an exit or error code). */
function isStatusKey(core: string, eq: number): boolean {
  const key = core.slice(0, eq).replace(/["']/g, '').toLowerCase();
  return key.endsWith('status') || key.endsWith('status_code') || key.endsWith('statuscode') || key === 'response_code' || key === 'http_code';
}

/**
 * An HTTP status of a status key keeps its class (`status=503` → `status=5xx`): the class says
 * how the request went, and two classes are two templates (outcome-words.ts).
 */
function statusClass(value: string): string | undefined {
  let s = 0;
  let e = value.length;
  while (s < e && OPENERS.includes(value[s])) s++;
  while (e > s && CLOSERS.includes(value[e - 1])) e--;
  if (e - s !== 3) return undefined;
  const c = value.charCodeAt(s);
  if (c < 49 || c > 53 || !allDigits(value, s + 1, e)) return undefined;
  return `${value.slice(0, s)}${value[s]}xx${value.slice(e)}`;
}

/** A token's text, lower-case, without the punctuation around it (`"status":` → `status`). */
function bareWord(token: string): string {
  let s = 0;
  let e = token.length;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  return token.slice(s, e).toLowerCase();
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'delete', 'patch', 'head', 'options', 'connect', 'trace']);

/**
 * raw[t] is a server-error HTTP status (5xx) by its context — after a status word (`status: 503`,
 * `"status": 503,`, `HTTP 503`, `status code 503`), after a request (`"GET /x HTTP/1.1" 503`,
 * `GET /healthz 503`), or after `returned`/`responded` unless a plural noun follows (`returned
 * 500 rows` is a count) — `5xx` with the punctuation around it (`503,` → `5xx,`), else
 * undefined: a request the server failed never shares a template with a served one
 * (outcome-words.ts), as with `status=503` (isStatusKey).
 */
function httpStatusClass(raw: string[], t: number): string | undefined {
  if (t === 0) return undefined;
  // Only server errors get a class of their own here: in free text a 404 is the client's
  // outcome and stays a number (OpenStack's `status: 404` lines share the 200s' template).
  const serverError = statusClass(raw[t]);
  if (serverError === undefined || !serverError.includes('5xx')) return undefined;
  const prev = bareWord(raw[t - 1]);
  const before = t >= 2 ? bareWord(raw[t - 2]) : '';
  let status = isStatusWord(prev) || (prev === 'code' && (isStatusWord(before) || before === 'response'));
  // `GET /x 503`, `GET /x -> 503`, `Fetched https://cdn/a.js (503)`
  if (!status && t >= 2 && HTTP_METHODS.has(before)) status = prev.startsWith('/') || prev.includes('://');
  if (!status && t >= 3 && (raw[t - 1] === '->' || raw[t - 1] === '=>') && HTTP_METHODS.has(bareWord(raw[t - 3]))) status = true;
  if (!status && prev.includes('://')) status = true;
  if (!status && (prev === 'returned' || prev === 'responded' || prev === 'response')) {
    const next = t + 1 < raw.length ? bareWord(raw[t + 1]) : '';
    status = !(next.length > 2 && next.endsWith('s') && /^[a-z]+$/.test(next));
  }
  return status ? serverError : undefined;
}

/** `status`, `http_status`, `statuscode`, `status_code`, `http`, `http/1.1`. */
function isStatusWord(word: string): boolean {
  return word.endsWith('status') || word.endsWith('status_code') || word.endsWith('statuscode') || word === 'http' || word.startsWith('http/');
}

/** `true` / `false` (any case, in wrapping punctuation) are values: `<*>`. */
function maskBoolean(token: string): string {
  let s = 0;
  let e = token.length;
  while (s < e && OPENERS.includes(token[s])) s++;
  const c = token.charCodeAt(s) | 0x20;
  if (c !== 116 && c !== 102) return token; // t, f
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  const core = token.slice(s, e).toLowerCase();
  return core === 'true' || core === 'false' ? token.slice(0, s) + WILDCARD + token.slice(e) : token;
}

/**
 * The masked form of one whitespace-free token: the token itself when it holds no variable
 * value, a placeholder when it is one, or the token with its variable parts masked.
 */
export function maskToken(token: string): string {
  const n = token.length;
  // Fast path: a token with no digit and none of / @ . : is a word (a host needs a dot, a URL
  // or path a slash, an e-mail an @, an IPv6 address a colon).
  let special = false;
  for (let i = 0; i < n; i++) {
    const c = token.charCodeAt(i);
    if ((c >= 48 && c <= 58) || c === 46 || c === 47 || c === 64 || c === 92) {
      special = true;
      break;
    }
  }
  if (!special) {
    if (n >= 4 && n <= 8) return maskBoolean(token);
    return n >= 11 && token.indexOf('-') !== token.lastIndexOf('-') ? maskWordToken(token) : token;
  }
  // A bracketed IPv6 address with a port: `[2001:db8::1]:443`.
  if (token.charCodeAt(0) === 91 && token.includes(']:') && isIPv6(token)) return '<ip>';
  let s = 0;
  let e = n;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && CLOSERS.includes(token[e - 1])) {
    // Keep a `::`-ending IPv6 intact, and a closing bracket whose opener is inside the core.
    const ch = token[e - 1];
    if (ch === ']' && token.lastIndexOf('[', e - 1) >= s) break;
    if (ch === ')' && token.lastIndexOf('(', e - 1) >= s) break;
    if (ch === ':' && token[e - 2] === ':') break;
    // A placeholder already in the text (`/users/<id>`) keeps its `>`.
    if (ch === '>' && token.lastIndexOf('<', e - 1) >= s) break;
    e--;
  }
  if (s === e) return token;
  const core = token.slice(s, e);
  const masked = maskGeneratedName(maskCore(core));
  if (masked === core) return token;
  return token.slice(0, s) + masked + token.slice(e);
}

/** A token of letters and hyphens (no digit): only a generated name's suffix can be a value in it. */
function maskWordToken(token: string): string {
  let s = 0;
  let e = token.length;
  while (s < e && OPENERS.includes(token[s])) s++;
  while (e > s && CLOSERS.includes(token[e - 1])) e--;
  const core = token.slice(s, e);
  const masked = maskGeneratedName(core);
  return masked === core ? token : token.slice(0, s) + masked + token.slice(e);
}

/**
 * Kubernetes' generated names (`kube-api-access-bwqgf`, `coredns-5d78c9869d-sjllr`,
 * `web-7fd8b6f5c9-x2k4p`): the random suffix of five characters, and the pod-template hash
 * before it, drawn from Kubernetes' alphabet without vowels (bcdfghjklmnpqrstvwxz2456789),
 * are values. Only after two hyphens, so `proxy-https` keeps its word.
 */
function maskGeneratedName(core: string): string {
  const last = core.lastIndexOf('-');
  if (last <= 0 || core.lastIndexOf('-', last - 1) < 0) return core;
  let tail = core.slice(last + 1);
  if (tail.length === 5 && K8S_RANDOM.test(tail)) tail = WILDCARD;
  if (tail !== WILDCARD) return core;
  const prev = core.lastIndexOf('-', last - 1);
  const hash = core.slice(prev + 1, last);
  const head = hash.length >= 6 && hash.length <= 10 && K8S_RANDOM.test(hash) && prev > 0 ? core.slice(0, prev + 1) + WILDCARD : core.slice(0, last);
  const out = `${head}-${tail}`;
  return out === core ? core : out;
}
const K8S_RANDOM = /^[bcdfghjklmnpqrstvwxz2456789]+$/;

function lower3(t: string): string {
  return t.length <= 10 ? t.toLowerCase().replace(/[,.]$/, '') : '';
}
function isDayNumber(t: string): boolean {
  const d = t.endsWith(',') ? t.slice(0, -1) : t;
  return /^\d{1,2}(?:st|nd|rd|th)?$/.test(d) && Number.parseInt(d, 10) <= 31;
}

/**
 * The tokens of the first line of a message, each masked (a long one: its first and last
 * tokens, joinLong). A date spelled with words becomes one `<date>` token.
 */
export function maskedTokens(message: string, maxChars = DEFAULT_MAX_CHARS): string[] {
  // Terminal colours (`\x1b[31mERROR\x1b[0m`) are no part of what a message says.
  if (message.includes('\x1b[')) message = message.replace(ANSI_ESCAPE, '');
  let end = message.length;
  const nl = message.indexOf('\n');
  if (nl >= 0) end = nl;
  if (end > maxChars) {
    // A long line: tokens from its head and from its tail are mined (see joinLong); only those
    // two windows are read. Both cut at whitespace: a token cut in the middle would differ.
    const tailChars = maxChars >> 2;
    let cut = maxChars - tailChars;
    while (cut > 0 && !isSpace(message.charCodeAt(cut)) && !isSpace(message.charCodeAt(cut - 1))) cut--;
    if (cut === 0) cut = maxChars - tailChars;
    let from = end - tailChars;
    while (from < end && !isSpace(message.charCodeAt(from - 1))) from++;
    const head: string[] = [];
    const tail: string[] = [];
    splitTokens(message, 0, cut, head);
    if (from < end && from > cut) splitTokens(message, from, end, tail);
    return joinLong(maskRaw(head), maskRaw(tail, false));
  }
  const raw: string[] = [];
  splitTokens(message, 0, end, raw);
  const out = maskRaw(raw);
  return out.length > HEAD_TOKENS + TAIL_TOKENS ? joinLong(out, out.slice(out.length - TAIL_TOKENS)) : out;
}

/** Tokens of a long message mined from its start and from its end. */
export const HEAD_TOKENS = 48;
export const TAIL_TOKENS = 16;

/**
 * A long message as its first HEAD_TOKENS tokens, `…`, and its last TAIL_TOKENS: the end of a
 * long line often says what went wrong (`… nested exception is …ConstraintViolationException:
 * could not execute statement`), so two lines that share a long head are two templates when
 * their tails differ; and fixed token counts, not a cut at a character count, keep lines of one
 * kind with values of other lengths in one template. A run of one masked value across the gap
 * (a list of ids longer than the line) stays one run.
 */
function joinLong(head: string[], tail: string[]): string[] {
  const out = head.length > HEAD_TOKENS ? head.slice(0, HEAD_TOKENS) : head;
  const start = Math.max(0, tail.length - TAIL_TOKENS);
  const last = out[out.length - 1];
  let t = start;
  while (t < tail.length && tail[t] === last && hasPlaceholder(last)) t++;
  if (t >= tail.length) return out;
  if (t === start) out.push(LONG_LINE_GAP);
  for (; t < tail.length; t++) out.push(tail[t]);
  return out;
}

/** Between the head and the tail of a line longer than maxChars. */
export const LONG_LINE_GAP = '…';

/** The whitespace-separated tokens of message[from, end) appended to raw (a quoted key value with spaces is one token). */
function splitTokens(message: string, from: number, end: number, raw: string[]): void {
  let i = from;
  while (i < end) {
    let c = message.charCodeAt(i);
    while (i < end && (c === 32 || c === 9 || c === 13 || c === 11 || c === 12)) c = message.charCodeAt(++i);
    if (i >= end) break;
    const start = i;
    while (i < end && c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) c = message.charCodeAt(++i);
    // A quoted value of a key with spaces in it (`tag="View Lock",`) is one token: otherwise
    // each value would make a template of its own length. Not the message or error of a logfmt
    // line (`msg="shim disconnected"`, `err="context deadline exceeded"`): their words are what
    // the template is.
    const eq = message.indexOf('="', start);
    if (eq > start && eq < i - 1 && message.indexOf('"', eq + 2) >= i && !isMessageKey(message, start, eq)) {
      const close = message.indexOf('"', i);
      if (close > 0 && close < end && close - i <= QUOTED_VALUE_CHARS) {
        i = close;
        c = message.charCodeAt(i);
        while (i < end && c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) c = message.charCodeAt(++i);
      }
    }
    raw.push(message.slice(start, i));
  }
}

/**
 * Where a quoted value of several tokens that starts at raw[t] ends (the index of its last
 * token), or -1: raw[t] opens a quote after a `label:` token (`user_agent: "Mozilla/5.0 …"`),
 * a later token (at most 40 on) closes it, and no failure word is inside.
 */
function labelledQuoteEnd(raw: string[], t: number): number {
  const tok = raw[t];
  const q = tok.indexOf('"');
  if (q < 0 || tok.indexOf('"', q + 1) >= 0) return -1;
  // (`key="several words"` is one raw token already: see the tokenizer)
  if (q !== 0) return -1;
  const prev = raw[t - 1];
  if (prev.charCodeAt(prev.length - 1) !== 58 || prev.length < 2) return -1;
  for (let j = t + 1; j < raw.length && j <= t + 40; j++) {
    const w = raw[j];
    const close = w.indexOf('"');
    if (close >= 0) {
      if (!/^[^"]*"[,;.)}\]]*$/.test(w)) return -1;
      for (let i = t; i <= j; i++) if (hasFailureWord(raw[i])) return -1;
      return j;
    }
  }
  return -1;
}

/** The words an SQL statement opens with. */
const SQL_VERBS = new Set(
  'SELECT INSERT UPDATE DELETE MERGE WITH VALUES TABLE BEGIN START COMMIT END ROLLBACK SAVEPOINT RELEASE SET SHOW RESET DISCARD CREATE ALTER DROP TRUNCATE GRANT REVOKE COMMENT VACUUM ANALYZE ANALYSE REINDEX CLUSTER REFRESH COPY EXPLAIN LOCK CALL DO PREPARE EXECUTE DEALLOCATE DECLARE FETCH MOVE CLOSE LISTEN NOTIFY UNLISTEN CHECKPOINT REPLACE USE DESCRIBE'.split(' '),
);
/** Labels after which the rest of a message is code: a query, a statement, a command. */
const CODE_LABELS = new Set(['statement:', 'query:', 'sql:']);
/**
 * Where the code after raw[t] starts (an index after t), or -1: raw[t] is a label that says code
 * follows, what follows opens like an SQL statement, and no failure word is in it (`statement:`, any case) or `execute` with a prepared statement's `name:` after it.
 * (Not cron's `CMD (…)`: LogHub's Thunderbird keeps `run-parts <*>` apart from other commands.)
 */
function codeFollows(raw: string[], t: number): number {
  const tok = raw[t];
  // (a label ends in a colon; `execute` has seven letters: most tokens go no further)
  if (tok.length > 10 || (tok.charCodeAt(tok.length - 1) !== 58 && tok.length !== 7)) return -1;
  const lower = tok.toLowerCase();
  const from = CODE_LABELS.has(lower) ? t + 1 : lower === 'execute' && t + 2 < raw.length && raw[t + 1].endsWith(':') ? t + 2 : -1;
  // Only a statement (Go's `sql: no rows in result set`, `dns query: example.com NXDOMAIN` are
  // results, what happened), and not when it says something went wrong (`statement: timeout expired`).
  if (from < 0 || !SQL_VERBS.has(raw[from].replace(/[;(]+$/, '').toUpperCase())) return -1;
  for (let i = from; i < raw.length; i++) if (saysHowSqlWent(raw[i])) return -1;
  return from;
}

/** Verbs that open a message about a task or service's life: what follows, up to a full stop, is its name. */
const LIFECYCLE_VERBS = new Set(['Starting', 'Started', 'Stopping', 'Stopped', 'Finished', 'Reloading', 'Reloaded']);
/** Verdicts on how a task went, beside the failure words: no part of a lifecycle line's name. */
const VERDICTS = new Set(['success', 'successful', 'successfully', 'succeeded', 'ok', 'okay', 'passed', 'completed', 'warnings']);
/** A word of a name: letters first, then letters, digits, `-`, `_`, `+` (`Online ext4 Metadata Check`, `clean-up`). */
const NAME_WORD = /^[A-Za-z][\w+-]*$/;

/**
 * Where the name after a lifecycle verb ends (the index of its last token), or -1. systemd's
 * `Starting Daily apt download activities...` / `Finished Certbot.` and Jenkins'
 * `Started Download metadata` / `Finished Workspace clean-up. 5 ms` name a unit or a task
 * in words: the name is one value, so a template per unit is one template. The name opens
 * with a capital (`Started initialization`, `Starting service [Catalina]` are not names) and
 * is words or paths up to the message's end or a word ending in `.` / `...`; a number, a
 * quote, a bracket or a label ends it — then it is no name (`Started OrderServiceApplication
 * in 4.1 seconds`, `Starting Servlet engine: [Apache Tomcat/9.0]`, `Started Session 5 of User root.`).
 */
function lifecycleNameEnd(raw: string[]): number {
  if (raw.length < 2 || !LIFECYCLE_VERBS.has(raw[0])) return -1;
  const c = raw[1].charCodeAt(0);
  if (c < 65 || c > 90) return -1;
  for (let i = 1; i < raw.length; i++) {
    let w = raw[i];
    const stop = w.endsWith('.');
    if (stop) w = w.replace(/\.+$/, '');
    if (!NAME_WORD.test(w) && !(i > 1 && w.charCodeAt(0) === 47 && w.length > 1 && !/["'\[\]():]/.test(w))) return -1;
    // How it went is no part of a name (`Finished Certbot with errors.`, `… successfully.`,
    // `Finished ERROR.`, `Stopped X due to timeout.`): such a line is mined word for word.
    // (Not every state word: unit names say `Online`, `Update`, `Load`.)
    if (hasFailureWord(w) || VERDICTS.has(w.toLowerCase())) return -1;
    if (stop) return i;
  }
  // A one-word name needs its full stop (`Finished Certbot.`): `Starting NameNode` could be a
  // program's own word, `Started @2533ms` is no name.
  return raw.length > 2 ? raw.length - 1 : -1;
}

/** Keys whose value is a name, which may hold spaces: `application_name=`, `service_name=`. */
const NAME_KEY = /^[a-z][a-z_]*_name=\S/i;
const LOWER_WORD = /^[a-z][a-z]+[,.;:]?$/;
/** A long upper-case code (`SIGKILL`, `NXDOMAIN`; not `JDBC`) or an HTTP status: no part of a name. */
const CODE_OR_STATUS = /^(?:[A-Z][A-Z_]{4,}|[1-5]\d\d)[,.;:]?$/;
/**
 * Whether the tokens after raw[t] continue its value to the end: no other `key=`, no lower-case
 * word, nothing that says how something went — a name's words (`JDBC Driver`, `v0.48.6`, `4 -
 * DB:orders`), not the sentence going on (`… name=com.x/.Main) called by com.android`) nor a
 * verdict after it (`… service_name=Payments Healthy`, `… SIGKILL`, `… 503`).
 */
function nameRunsToEnd(raw: string[], t: number): boolean {
  for (let i = t + 1; i < raw.length; i++) {
    const w = raw[i];
    if (w.indexOf('=') >= 0 || LOWER_WORD.test(w) || hasFailureWord(w) || isOutcomeWord(w) || namesErrorType(w) || CODE_OR_STATUS.test(w)) return false;
  }
  return true;
}
/** `Name('word')` and its closing punctuation. */
const QUOTED_CALL_ARG = /^([A-Za-z_][\w.$]*)\((['"])([^'"\s()]+)\2\)([^\w'"]*)$/;
/** Errors whose argument names what is unknown or missing (`UnknownJailException('sshd')`, `KeyError('user_id')`) — not a code (`ClientError('AccessDenied')`). */
const NAMES_ITS_ARGUMENT = /^(?:[\w.$]*\.)?(?:Unknown|NoSuch|Missing)\w*|(?:NotFound\w*|KeyError|LookupError)$/;

/** SSH public key types, as sshd names them before a key's fingerprint. */
const SSH_KEY_TYPES = new Set(['RSA', 'DSA', 'ECDSA', 'ED25519', 'ECDSA-SK', 'ED25519-SK', 'RSA-CERT', 'ECDSA-CERT', 'ED25519-CERT']);

/** Most items a bracketed list is read across. */
const LIST_ITEMS = 64;
/** A collection's name opening a list (Scala's and Kotlin's `Set(a, b)`, `HashSet(…)`, `List(…)`). */
const COLLECTION_OPEN = /^[A-Z][A-Za-z]{0,23}\(/;

/** Where the list raw[t] opens starts (`[a,` → 1, `Set(a,` → 4), or -1: a bracket, or a collection's name and a parenthesis, opening an item. */
function listOpen(tok: string): number {
  if (tok.charCodeAt(0) === 91) return 1;
  const m = COLLECTION_OPEN.exec(tok);
  return m ? m[0].length : -1;
}

/**
 * The index of the token closing the list raw[t] opens (`[a,` … `c]`, `Set(a,` … `c)`), or -1:
 * every item but the last ends in a comma, none holds a bracket or a `key=` (`[total=10,
 * idle=0]` names its fields: they stay).
 */
function listEnd(raw: string[], t: number, open: number, closer: string): number {
  const first = raw[t].slice(open);
  if (first.indexOf('[') >= 0 || first.indexOf('(') >= 0 || first.indexOf('=') >= 0 || saysHowItWent(first)) return -1;
  for (let i = t + 1; i < raw.length && i - t < LIST_ITEMS; i++) {
    const item = raw[i];
    const close = item.indexOf(closer);
    if (item.indexOf('[') >= 0 || item.indexOf('(') >= 0 || item.indexOf('=') >= 0 || saysHowItWent(item)) return -1;
    if (close >= 0) return close > 0 && close >= item.length - 2 ? i : -1;
    if (item.charCodeAt(item.length - 1) !== 44) return -1;
  }
  return -1;
}
/**
 * A list as one token: `[<item>]` when every item masks alike (`[orders.payments-<*>]`), else
 * `[<*>]` (`Set(…)` likewise); what follows its closing bracket is kept.
 */
function listMask(raw: string[], t: number, end: number, open: number, closer: string): string {
  const last = raw[end];
  const close = last.lastIndexOf(closer);
  const core = maskToken(raw[t].slice(open, -1));
  let same = core;
  for (let i = t + 1; i <= end && same !== WILDCARD; i++) {
    if (maskToken(i === end ? last.slice(0, close) : raw[i].slice(0, -1)) !== core) same = WILDCARD;
  }
  return `${raw[t].slice(0, open)}${same}${last.slice(close)}`;
}

/** Most tokens an SQL statement inside a message is read across. */
const STATEMENT_TOKENS = 128;
/**
 * Where the SQL statement raw[t] opens ends (the index of its last token), or -1: raw[t] is an
 * upper-case SQL verb after `query` / `statement`, the statement ending with a token ending in
 * `;`; or raw[t] opens a quote with an upper-case SQL verb, ending where the quote closes.
 * Nothing inside says how it went (saysHowSqlWent).
 */
function statementEnd(raw: string[], t: number): number {
  const tok = raw[t];
  const q = tok.charCodeAt(0) === 39 || tok.charCodeAt(0) === 34 ? tok[0] : '';
  const verb = q ? tok.slice(1) : tok;
  if (verb.length < 3 || verb.charCodeAt(0) < 65 || verb.charCodeAt(0) > 90 || !SQL_VERBS.has(verb)) return -1;
  if (!q && !/^(?:query|statement|sql)$/i.test(raw[t - 1])) return -1;
  // (not an HTTP request in quotes, `"DELETE /api/orders/7 HTTP/1.1"`)
  if (q && (raw[t + 1].charCodeAt(0) === 47 || raw[t + 1].includes('://'))) return -1;
  // An unquoted statement ends at its first `;`; a quoted one where its quote closes — past the
  // literals it quotes itself (`WHERE day = '2024-03-12' AND name = 'a b'`).
  let end = -1;
  let literal = false;
  for (let i = t + 1; i < raw.length && i - t < STATEMENT_TOKENS && end < 0; i++) {
    const w = raw[i];
    if (!q) {
      if (w.endsWith(';')) end = i;
      continue;
    }
    const core = w.replace(/[)\],.;:!?]+$/, '');
    const opens = w.startsWith(q);
    const closes = core.endsWith(q) && w.length > 1;
    // a literal closing with the statement: `k = 'abc''`
    if (core.length > 2 && core.endsWith(q + q) && (literal || opens)) end = i;
    else if (literal) literal = !closes;
    else if (opens && !closes) literal = true;
    else if (closes && !opens) end = i;
  }
  for (let i = t; i <= end; i++) if (saysHowSqlWent(raw[i])) return -1;
  return end;
}

/** SQL's own words, which outcome-words.ts would read as states (`SET`, `END`, `BEGIN`, `COMMIT`, `DELETE`). */
const SQL_WORDS = new Set([...SQL_VERBS, ...'FROM WHERE AND OR NOT NULL IN IS LIMIT OFFSET ORDER BY GROUP HAVING JOIN LEFT RIGHT INNER OUTER ON AS INTO DISTINCT ASC DESC LIKE BETWEEN CASE WHEN THEN ELSE IF EXISTS RETURNING USING ALLOW FILTERING TTL'.split(' ')]);
/**
 * Whether a token of a statement's span says how it went (a failure word, an outcome or state
 * word — `committed`, `OK`, `cancelled`), so the span is no statement alone; SQL's own words in
 * capitals are SQL.
 */
function saysHowSqlWent(token: string): boolean {
  if (hasFailureWord(token)) return true;
  const core = token.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, '');
  if (core !== '' && core === core.toUpperCase() && SQL_WORDS.has(core)) return false;
  return isOutcomeWord(token);
}

/** Each raw token masked; a spelled date, a number and its unit, a frame with a space are one token each. `atStart`: raw opens the message (not a long line's tail window). */
function maskRaw(raw: string[], atStart = true): string[] {
  const out: string[] = new Array(raw.length);
  let k = 0;
  // A unit's or a task's name after a lifecycle verb is one value (its full stop kept).
  const nameEnd = atStart ? lifecycleNameEnd(raw) : -1;
  if (nameEnd > 0) {
    const last = raw[nameEnd];
    out[k++] = raw[0];
    out[k++] = WILDCARD + last.slice(last.replace(/\.+$/, '').length);
    raw = raw.slice(nameEnd + 1);
  }
  for (let t = 0; t < raw.length; t++) {
    const tok = raw[t];
    const c0 = tok.charCodeAt(0) | 0x20;
    // Words starting a spelled date: a weekday before a month, or a month before a day.
    if (c0 >= 97 && c0 <= 122 && tok.length >= 3 && tok.length <= 10 && t + 1 < raw.length) {
      const w = lower3(tok);
      let j = -1;
      if (WEEKDAYS.has(w) && MONTHS.has(lower3(raw[t + 1])) && t + 2 < raw.length && isDayNumber(raw[t + 2])) j = t + 3;
      else if (MONTHS.has(w) && isDayNumber(raw[t + 1])) j = t + 2;
      if (j > 0) {
        // Absorb a time, a zone after it, and a year that follow (`19:02:14 EST 2004`); the
        // punctuation after the last one absorbed is kept (`2004)` → `<date>)`).
        let time = false;
        let tail = '';
        for (let m = 0; m < 3 && j < raw.length; m++) {
          const nx = raw[j];
          const y = YEAR.exec(nx);
          if (!time && tail === '' && TIME.test(nx)) {
            time = true;
            j++;
          } else if (time && tail === '' && ZONE.test(nx) && j + 1 < raw.length && YEAR.test(raw[j + 1])) j++;
          else if (y && tail === '') {
            tail = y[1];
            j++;
            break;
          } else break;
        }
        out[k++] = '<date>' + tail;
        t = j - 1;
        continue;
      }
    }
    // Code after a label that says code follows (PostgreSQL's `statement: SELECT …`, `execute
    // <name>: …`): the rest of the message is one value — a query is what was run, not what
    // happened; a template per text would be one per statement.
    if (t + 1 < raw.length) {
      const rest = codeFollows(raw, t);
      if (rest > t) {
        for (let i = t; i < rest; i++) out[k++] = i === t ? tok : WILDCARD + raw[i].slice(-1);
        out[k++] = WILDCARD;
        out.length = k;
        return out;
      }
    }
    // An SQL statement in the middle of a message, after the word query or statement
    // (Cassandra's `for query SELECT * FROM t WHERE k = 5 LIMIT 100; token …`) up to its `;`, or
    // in quotes (`during query 'SELECT … LIMIT 5000'`): one value, as above.
    if (t > 0 && t + 1 < raw.length) {
      const end = statementEnd(raw, t);
      if (end > t) {
        const last = raw[end];
        const q = tok.charCodeAt(0) === 39 || tok.charCodeAt(0) === 34 ? tok[0] : '';
        out[k++] = q ? `${q}${WILDCARD}${last.slice(last.lastIndexOf(q))}` : `${WILDCARD}${last.slice(last.lastIndexOf(';'))}`;
        t = end;
        continue;
      }
    }
    // A quoted value of several words after a field label (`user_agent: "Mozilla/5.0 (X11; …)",`)
    // is one value, whatever its length: a user agent or a free-text note must not make a
    // template per word count. Not when a failure word is in it (what went wrong stays the
    // message's kind).
    if (t > 0) {
      const end = labelledQuoteEnd(raw, t);
      if (end > t) {
        out[k++] = `"${WILDCARD}${raw[end].slice(raw[end].lastIndexOf('"'))}`;
        t = end;
        continue;
      }
    }
    // A name's value written unquoted at the end of key=value pairs runs to the end of the
    // message (PostgreSQL's `… database=shop application_name=PostgreSQL JDBC Driver`): one value.
    if (t > 1 && t + 1 < raw.length && raw[t - 1].indexOf('=') > 0 && NAME_KEY.test(tok) && nameRunsToEnd(raw, t)) {
      out[k++] = tok.slice(0, tok.indexOf('=') + 1) + WILDCARD;
      out.length = k;
      return out;
    }
    // A bracketed list of several items (`[orders.payments-0, orders.payments-7]`, Java's
    // List#toString, Scala's `Set(a, b)`) is one value, whatever its length.
    if (tok.charCodeAt(tok.length - 1) === 44 && t + 1 < raw.length) {
      const open = listOpen(tok);
      if (open > 0) {
        const closer = open === 1 ? ']' : ')';
        const end = listEnd(raw, t, open, closer);
        if (end > t) {
          out[k++] = listMask(raw, t, end, open, closer);
          t = end;
          continue;
        }
      }
    }
    // An SSH key: its type and its fingerprint (`RSA SHA256:kT3…`, `ED25519 SHA256:…`), one value.
    if (t + 1 < raw.length && SSH_KEY_TYPES.has(tok) && /^(?:SHA256|SHA1|MD5):\S/.test(raw[t + 1])) {
      out[k++] = WILDCARD;
      t++;
      continue;
    }
    // A number followed by a unit word is one size or duration (`4.5 KB,`, `150 ms`).
    if (t + 1 < raw.length && (isDigit(tok.charCodeAt(0)) || (tok.length > 1 && NUMBER_START.includes(tok[0]))) && NUMBER_ONLY.test(tok)) {
      const u = UNIT.exec(raw[t + 1]);
      if (u) {
        out[k++] = (u[1] ? '<size>' : '<duration>') + raw[t + 1].slice(u[0].length);
        t++;
        continue;
      }
      // … and a number followed by a currency code is one amount (`21.78 EUR` / `9.00 USD,`): a
      // number, so an order total is one template whatever its currency.
      const cur = CURRENCY.exec(raw[t + 1]);
      if (cur && CURRENCIES.has(cur[1])) {
        out[k++] = '<num>' + raw[t + 1].slice(3);
        t++;
        continue;
      }
    }
    // A frame whose location has a space (`a.B.m(Native Method)`) is one value too.
    if (t + 1 < raw.length && tok.charCodeAt(tok.length - 1) !== 41 && tok.includes('.') && tok.includes('(') && FRAME.test(`${tok} ${raw[t + 1]}`)) {
      out[k++] = WILDCARD;
      t++;
      if (t + 1 < raw.length && JAR_INFO.test(raw[t + 1])) t++;
      continue;
    }
    let masked = maskToken(tok);
    // An HTTP method in parentheses is the request's, a value (Django's `Method Not Allowed
    // (DELETE): /x`); elsewhere it stays (`"GET /v2/servers HTTP/1.1" 200` lines keep theirs).
    if (masked === tok && tok.charCodeAt(0) === 40 && tok.length <= 12) {
      const close = tok.indexOf(')');
      const method = tok.slice(1, close);
      if (close > 1 && method === method.toUpperCase() && HTTP_METHODS.has(method.toLowerCase())) masked = `(${WILDCARD}${tok.slice(close)}`;
    }
    // An error naming what is unknown or missing, with one quoted word for it (Python's repr of
    // an exception, `UnknownJailException('sshd')`, `KeyError('user_id')`): the word is a value
    // — unless it says how something went. Other calls' arguments stay: they are often codes
    // (`ClientError('AccessDenied')` / `('NoSuchBucket')`, `CardError('insufficient_funds')`).
    if (masked === tok && tok.indexOf('(') > 0) {
      const call = QUOTED_CALL_ARG.exec(tok);
      if (call && NAMES_ITS_ARGUMENT.test(call[1]) && !saysHowItWent(call[3])) masked = `${call[1]}(${call[2]}${WILDCARD}${call[2]})${call[4]}`;
    }
    // A number that an HTTP context makes a server error keeps its class (`… HTTP/1.1" 503` → `5xx`).
    if (masked.length <= 9 && masked.includes('<num>')) {
      const status = httpStatusClass(raw, t);
      if (status !== undefined) {
        out[k++] = status;
        continue;
      }
    }
    // A frame's jar and version after it (log4j's `~[elasticsearch-7.17.0.jar:7.17.0]`, `[?:?]`) belong to the frame.
    if (masked === WILDCARD && t + 1 < raw.length && tok.charCodeAt(tok.length - 1) === 41 && JAR_INFO.test(raw[t + 1])) {
      out[k++] = WILDCARD;
      t++;
      continue;
    }
    // A run of the same masked token (a list of ids: `blk_<*> blk_<*> …`) is one token, so
    // lists of any length share a template.
    if (k > 0 && masked === out[k - 1] && masked !== tok) continue;
    out[k++] = masked;
  }
  out.length = k;
  return out;
}

/** The masked message as text (tokens joined by one space). */
export function maskMessage(message: string, maxChars = DEFAULT_MAX_CHARS): string {
  return maskedTokens(message, maxChars).join(' ');
}

/** Whether a (masked) token is a placeholder or has a masked part. */
export function hasPlaceholder(token: string): boolean {
  // (a literal `<ok>` or `<none>` in a message is a word, not a placeholder)
  return token.indexOf('<') >= 0 && PLACEHOLDER_IN.test(token);
}
const PLACEHOLDER_IN = /<(?:\*|ip|mac|host|url|path|email|uuid|hex|num|size|duration|date|time)>/;

/**
 * The literal letters of a masked token (placeholders and punctuation removed): two tokens
 * that both hold values are the same field when their skeletons are equal (`#<*>#` and
 * `#<*>#<*>` are; `lr:<*>` and `cr:<*>` are not).
 */
export function skeleton(token: string): string {
  let out = '';
  let i = 0;
  const n = token.length;
  while (i < n) {
    const c = token.charCodeAt(i);
    if (c === 60) {
      const close = token.indexOf('>', i);
      if (close > i && PLACEHOLDERS.includes(token.slice(i, close + 1) as Placeholder)) {
        i = close + 1;
        continue;
      }
    }
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) out += token[i];
    i++;
  }
  return out;
}
