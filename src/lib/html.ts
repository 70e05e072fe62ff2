/**
 * @module lib/html
 * Escaping for text placed into HTML (pages and mail bodies).
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
