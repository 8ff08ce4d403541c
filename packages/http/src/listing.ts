import type { StoreListEntry } from './store.js';
import { escapeHtml } from './response.js';

/** The HTML listing page of a directory (names link relative to it, escaped and encoded). */
export function listingPage(path: string, entries: StoreListEntry[]): string {
  const title = escapeHtml(`Index of ${path}`);
  const rows = entries.map((e) => {
    const name = e.kind === 'directory' ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.kind === 'directory' ? '/' : '');
    const size = e.kind === 'directory' ? '-' : String(e.size);
    return `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(name)}</a></td><td>${new Date(e.mtimeMs).toISOString()}</td><td>${size}</td></tr>\n`;
  });
  const up = path === '/' ? '' : '<tr><td><a href="../">../</a></td><td></td><td></td></tr>\n';
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1>\n<table>\n${up}${rows.join('')}</table>\n</body></html>\n`;
}
