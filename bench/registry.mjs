// Every benchmark `pnpm bench` knows, in run order. Adding a benchmark = adding its file
// bench/<name>.mjs and one line here (see README.md for the contract).
export const registry = {
  finger: () => import('./finger.mjs'),
  lines: () => import('./lines.mjs'),
  idle: () => import('./idle.mjs'),
  pop3: () => import('./pop3.mjs'),
  ftp: () => import('./ftp.mjs'),
  nntp: () => import('./nntp.mjs'),
  http: () => import('./http.mjs'),
  workers: () => import('./workers.mjs'),
};
