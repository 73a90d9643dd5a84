// Masks secrets in text that leaves for an external service (the LLM, Jira): card numbers,
// bearer tokens, API keys, passwords. Same patterns the agent applies at the source; this is
// the second line of defence for lines indexed before redaction was configured.
const PATTERNS: [RegExp, string][] = [
  [/\b(?:\d[ -]?){13,19}\b/g, '[REDACTED-CARD]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, 'Bearer [REDACTED]'],
  [/\b(?:sk|pk|rk|xox[abpr])-[A-Za-z0-9-]{10,}\b/g, '[REDACTED-KEY]'],
  [/((?:password|passwd|pwd|secret|api[_-]?key|token)["']?\s*[:=]\s*["']?)[^\s"',}]+/gi, '$1[REDACTED]'],
];

export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}
