// Message templates: the variable parts of a log message masked, so "Product #999 has no
// price" and "Product #1001 has no price" are the same template. The template is part of
// an incident's fingerprint and is indexed with every event (stacklens.message_template).

const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const QUOTED = /"[^"\n]*"|'[^'\n]*'/g;
const HEX = /\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b/g;
const NUMBER = /\d+(?:[.,]\d+)*/g;

/** Longest message prefix templated: longer messages are cut (stack traces add nothing to identity). */
export const TEMPLATE_MAX_CHARS = 512;

export function messageTemplate(message: unknown): string {
  if (typeof message !== 'string' || message === '') return '';
  const text = message.length > TEMPLATE_MAX_CHARS ? message.slice(0, TEMPLATE_MAX_CHARS) : message;
  return text.replace(UUID, '<uuid>').replace(QUOTED, '<str>').replace(HEX, '<hex>').replace(NUMBER, '<num>').trim();
}
