import { createWriteStream, type WriteStream } from 'node:fs';

/** One served request, as the access log sees it. */
export interface AccessRecord {
  remoteAddress: string;
  requestLine: string;
  status: number;
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
  time: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/**
 * The NCSA combined log format (Apache's `combined`, nginx's default):
 * `host - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 2326 "referer" "agent"`.
 * Times in UTC. Quotes and backslashes in fields are escaped, as Apache does.
 */
export function formatCombined(r: AccessRecord): string {
  const d = new Date(r.time);
  const when = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  const q = (s: string | undefined): string =>
    s === undefined
      ? '-'
      : // biome-ignore lint/suspicious/noControlCharactersInRegex: escapes the control characters a client put in the logged fields, on purpose
        s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${r.remoteAddress} - - [${when}] "${q(r.requestLine)}" ${r.status} ${r.bytes === 0 ? '-' : r.bytes} "${q(r.referer)}" "${q(r.userAgent)}"`;
}

/** An access log file, appended to (a line per request, written through the stream's buffer). */
export class AccessLogFile {
  readonly #stream: WriteStream;
  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'a' });
    this.#stream.on('error', () => undefined);
  }
  write(line: string): void {
    this.#stream.write(`${line}\n`);
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.#stream.end(resolve));
  }
}
