// Incident mails say what the Jira ticket says: the ticket's description (Atlassian Document
// Format, built once in jira.ts) rendered as HTML and as plain text. Only the node types
// that description uses are rendered; text is always escaped, links only http(s).
type Node = { type?: string; text?: string; content?: Node[]; attrs?: Record<string, unknown>; marks?: { type: string; attrs?: Record<string, unknown> }[] };

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const safeHref = (href: unknown) => (typeof href === 'string' && /^https?:\/\//i.test(href) ? href : undefined);

export function adfToHtml(node: Node): string {
  const inner = () => (node.content ?? []).map(adfToHtml).join('');
  switch (node.type) {
    case 'doc':
      return inner();
    case 'heading': {
      const level = Math.min(6, Math.max(1, Number(node.attrs?.level ?? 3)));
      return `<h${level}>${inner()}</h${level}>\n`;
    }
    case 'paragraph':
      return `<p>${inner()}</p>\n`;
    case 'bulletList':
      return `<ul>\n${inner()}</ul>\n`;
    case 'listItem':
      return `<li>${(node.content ?? []).map((c) => (c.type === 'paragraph' ? (c.content ?? []).map(adfToHtml).join('') : adfToHtml(c))).join('')}</li>\n`;
    case 'codeBlock':
      return `<pre>${escapeHtml((node.content ?? []).map((c) => c.text ?? '').join(''))}</pre>\n`;
    case 'text': {
      let html = escapeHtml(node.text ?? '');
      for (const m of node.marks ?? []) {
        if (m.type === 'strong') html = `<strong>${html}</strong>`;
        const href = m.type === 'link' ? safeHref(m.attrs?.href) : undefined;
        if (href) html = `<a href="${escapeHtml(href)}">${html}</a>`;
      }
      return html;
    }
    default:
      return inner();
  }
}

export function adfToText(node: Node): string {
  const inner = (sep = '') => (node.content ?? []).map(adfToText).join(sep);
  switch (node.type) {
    case 'doc':
      return inner().replace(/\n{3,}/g, '\n\n').trim();
    case 'heading':
      return `\n${inner()}\n${'-'.repeat(Math.min(60, inner().length))}\n`;
    case 'paragraph':
      return `${inner()}\n\n`;
    case 'bulletList':
      return `${(node.content ?? []).map((li) => `  - ${adfToText(li).trim()}`).join('\n')}\n\n`;
    case 'listItem':
      return inner(' ');
    case 'codeBlock':
      return `${(node.content ?? []).map((c) => c.text ?? '').join('').split('\n').map((l) => `    ${l}`).join('\n')}\n\n`;
    case 'text': {
      const href = node.marks?.find((m) => m.type === 'link')?.attrs?.href;
      return safeHref(href) ? `${node.text} <${href}>` : (node.text ?? '');
    }
    default:
      return inner();
  }
}
