import type { CommandSpec } from '@gorgon/core';
import type { HttpSession } from './session.js';
import { serveWithHandler } from './handler.js';
import { serveStatic } from './static.js';
import { statuses } from './statuses.js';

/**
 * The methods served, as command-table rows: GET and HEAD of static files, OPTIONS. Every
 * other method gets 405 with `Allow` made from these rows (an embedder's `commands` add
 * methods), an unknown one 501. @see RFC 9110 §9.3.1, §9.3.2, §9.3.7, §15.5.6
 */
export const httpMethods: ReadonlyArray<CommandSpec<'request', HttpSession>> = [
  { verb: 'GET', args: 'required', help: 'GET <target>: a file or directory', run: get },
  { verb: 'HEAD', args: 'required', help: 'HEAD <target>: as GET, without the content', run: get },
  {
    verb: 'OPTIONS',
    args: 'required',
    help: 'OPTIONS * or <target>: the methods allowed',
    run: (s) => s.respond(statuses.noContent, `Allow: ${s.allow}\r\n`, undefined),
  },
];

/** GET and HEAD: the `handler` option's response when it gives one, else the store's file. */
function get(s: HttpSession): void | Promise<void> {
  const handler = s.ctx.handler;
  return handler ? serveWithHandler(s, s.request!, handler) : serveStatic(s, s.request!);
}

/** Methods RFC 9110 defines (and WebDAV's common ones): 405 rather than 501. @see RFC 9110 §9.3 */
export const knownMethods = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'PROPFIND',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
]);
