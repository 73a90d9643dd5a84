// Masks the password of every URL's credentials in a piece of text:
//   "http://elastic:s3cret@es:9200"  →  "http://elastic:***@es:9200"
// for any scheme (https, redis, postgres, amqp, …), anywhere in the text, as many times as
// it occurs. The user name stays (it says which account was used); a URL with a user name
// and no password ("https://token@host") is left as it is.
//
// The userinfo is read as WHATWG URL parsers read it: the authority runs from "://" to the
// first "/", "?", "#" or whitespace, and its *last* "@" ends the userinfo, so an unencoded
// "@" in a password ("http://u:p@ss@host") is masked whole. A double quote also ends it, so
// that masking a JSON text (a serialized log line) never reaches across two JSON strings.
// Not masked: a password holding a raw "/", "?", "#", whitespace or '"' — that is not a URL
// (WHATWG parsers reject it; it must be percent-encoded).

/** What replaces a password. */
export const MASKED_PASSWORD = '***';

// "://", the user (no ":" — the first ":" ends it), ":", the password (greedy, then back to
// the authority's last "@"), "@". Matching starts only at "://", so text without one costs
// one indexOf; each attempt reads at most one authority, so the whole is linear.
const CREDENTIALS = /(:\/\/[^\s/?#:"]*:)[^\s/?#"]+@/g;

/** `text` with the password of every `scheme://user:password@` in it replaced by `***`. */
export function maskUrlCredentials(text: string): string {
  // The fast path: most text has no URL, and most URLs carry no credentials.
  if (text.indexOf('://') === -1 || text.indexOf('@') === -1) return text;
  return text.replace(CREDENTIALS, `$1${MASKED_PASSWORD}@`);
}
