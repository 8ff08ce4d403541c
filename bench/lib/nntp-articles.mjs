// The articles of the `nntp` benchmark, shared by the spool writer (bench/nntp.mjs) and the load
// generator that feeds the same articles to INN (bench/workers/nntp-client.mjs).

export const GROUP = 'bench.articles';

/** Article `i`: ~1.5 KiB, with a dot line every nine lines; `lines` is the body's line count. */
export function benchArticle(i) {
  let body = '';
  for (let l = 0; body.length < 1300; l++)
    body += l % 9 === 4 ? `.line ${l} starts with a dot\r\n` : `line ${l} of article ${i}: ${'lorem ipsum '.repeat(3)}\r\n`;
  const head = `Path: bench!not-for-mail\r\nFrom: bench${i}@example.org\r\nNewsgroups: ${GROUP}\r\nSubject: article ${i}\r\nMessage-ID: <${i}@bench.example.org>\r\nDate: Sun, 06 Dec 2026 00:00:00 +0000\r\nXref: bench ${GROUP}:${i}\r\n`;
  return { data: `${head}\r\n${body}`, lines: body.split('\r\n').length - 1 };
}

/** A short article for POST and TAKETHIS acceptance (no Message-ID: POST gets one from the server). */
export function smallArticle({ id, group, i, date }) {
  return `Path: feeder\r\nFrom: bench@example.org\r\nNewsgroups: ${group}\r\nSubject: streamed ${i}\r\n${id ? `Message-ID: ${id}\r\n` : ''}Date: ${date}\r\n\r\nbody of ${i}\r\n${'line of text '.repeat(5)}\r\n`;
}

/** Dot-stuffs `text` (CRLF lines) and ends it with the terminating dot line. */
export function dotStuffed(text) {
  return `${text.replace(/^\./gm, '..')}.\r\n`;
}
