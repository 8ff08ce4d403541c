import { serverName } from './defaults.js';
import { reasonOf } from './statuses.js';

let dateSecond = -1;
let dateText = '';

/** The Date field's value, made at most once a second. @see RFC 9110 §6.6.1, §5.6.7 */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** Parses an HTTP-date (IMF-fixdate and the two obsolete forms Date.parse reads); NaN if bad. @see RFC 9110 §5.6.7 */
export function parseHttpDate(value: string): number {
  return /^[A-Za-z]{3},? /.test(value) || /^[A-Za-z]+day, /.test(value) ? Date.parse(value) : Number.NaN;
}

/**
 * The status line and fields of a response, ending with the empty line. `fields` are whole
 * field lines ("Name: value\r\n"). @see RFC 9112 §4, §5
 */
export function formatHead(status: number, fields: string, contentLength: number | undefined, keepAlive: boolean, minor: number): string {
  let head = `HTTP/1.1 ${status} ${reasonOf(status)}\r\nServer: ${serverName}\r\nDate: ${httpDate()}\r\n${fields}`;
  if (contentLength !== undefined) head += `Content-Length: ${contentLength}\r\n`;
  if (!keepAlive) head += 'Connection: close\r\n';
  else if (minor === 0) head += 'Connection: keep-alive\r\n';
  return `${head}\r\n`;
}

/** Escapes text for an HTML page. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
