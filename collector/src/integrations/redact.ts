// Masks secrets in text that leaves for an external service (the LLM, Jira): the agent's own
// redactor (common/src/redact.ts), applied again as a second line of defence for lines that
// were indexed before redaction was configured, or sent by an agent with it turned off.
import { REDACT_DEFAULTS, Redactor } from '@stacklens/common';

const redactor = new Redactor(REDACT_DEFAULTS);

export function redactSecrets(text: string): string {
  return redactor.redact(text);
}
