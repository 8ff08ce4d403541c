import { encodeName, hasEscapes } from '@gorgon/core';
import type { StoreListEntry } from './store.js';
import { escapeHtml } from './response.js';

/** A byte of a name that is not part of valid UTF-8 (see the core's byte names). */
const ESCAPED_BYTE = /[\uDC80-\uDCFF]/g;

/** A name in a link: percent-encoded UTF-8, or its exact bytes for a name that is not UTF-8. */
function hrefName(name: string): string {
  if (!hasEscapes(name)) return encodeURIComponent(name);
  let out = '';
  for (const b of encodeName(name)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The HTML listing page of a directory (names link relative to it, escaped and encoded). */
export function listingPage(path: string, entries: StoreListEntry[]): string {
  const title = escapeHtml(`Index of ${path}`);
  const rows = entries.map((e) => {
    // A byte that is not UTF-8 shows as U+FFFD; the link keeps the byte.
    const shown = e.name.replace(ESCAPED_BYTE, '\uFFFD');
    const name = e.kind === 'directory' ? `${shown}/` : shown;
    const href = hrefName(e.name) + (e.kind === 'directory' ? '/' : '');
    const size = e.kind === 'directory' ? '-' : String(e.size);
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></td><td>${new Date(e.mtimeMs).toISOString()}</td><td>${size}</td></tr>\n`;
  });
  const up = path === '/' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n';
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n<table>\n${up}${rows.join('')}</table>\n</body></html>\n`;
}
