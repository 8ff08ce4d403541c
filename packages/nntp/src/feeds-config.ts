import { isIP } from 'node:net';
import { wildmat } from './wildmat.js';

/** How articles are offered to a peer. @see RFC 3977 §6.3.2 (IHAVE), RFC 4644 (streaming) */
export type FeedMode = 'ihave' | 'stream';

/** One outgoing peer. */
export interface FeedPeer {
  /** The queue's name (a file name: letters, digits, `.`, `_`, `-`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly mode: FeedMode;
  /** Groups fed to this peer (a wildmat list); an article goes when one of its groups matches. */
  readonly groups: string;
  /** The peer's Path identity: an article whose Path already names it is not offered (loop prevention). */
  readonly pathName: string;
  /** Articles offered per batch (CHECK/TAKETHIS window, IHAVE run). */
  readonly batch: number;
}

/** The feeds file, parsed. */
export interface FeedsConfig {
  readonly peers: readonly FeedPeer[];
  /** Addresses allowed to feed us (IHAVE, MODE STREAM, CHECK, TAKETHIS). */
  readonly acceptFrom: readonly string[];
}

/** A feeds file that cannot be used: the line and what is wrong. */
export class FeedsConfigError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`feeds line ${line}: ${message}`);
    this.name = 'FeedsConfigError';
  }
}

/**
 * Parses a feeds file (`nntpd --feeds FILE`), one directive per line, `#` comments:
 *
 * ```
 * # outgoing: name host:port, then options
 * peer inn 127.0.0.1:11119 mode=stream groups=*,!junk,!control* path=inn.example batch=64
 * peer b   [::1]:1120      mode=ihave
 * # incoming: addresses allowed to feed us (IHAVE / streaming)
 * accept 127.0.0.1 ::1
 * ```
 *
 * `mode` defaults to `stream` (falling back to IHAVE when the peer refuses MODE STREAM),
 * `groups` to `*`, `path` to the peer's name, `batch` to 64. Peers are not accepted as feeders
 * unless listed in an `accept` line too (INN's incoming.conf is separate from newsfeeds as well).
 */
export function parseFeedsConfig(text: string): FeedsConfig {
  const peers: FeedPeer[] = [];
  const acceptFrom: string[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const words = raw
      .replace(/#.*$/, '')
      .trim()
      .split(/\s+/)
      .filter((w) => w.length > 0);
    if (words.length === 0) return;
    const [directive, ...rest] = words;
    if (directive === 'accept') {
      if (rest.length === 0) throw new FeedsConfigError(line, 'accept needs at least one address');
      for (const address of rest) {
        if (isIP(address) === 0) throw new FeedsConfigError(line, `not an IP address: ${address}`);
        acceptFrom.push(address);
      }
      return;
    }
    if (directive !== 'peer') throw new FeedsConfigError(line, `unknown directive ${JSON.stringify(directive)} (peer or accept)`);
    const [name, target, ...options] = rest;
    if (!name || !/^[A-Za-z0-9._-]+$/.test(name)) throw new FeedsConfigError(line, 'peer needs a name of letters, digits, ".", "_" or "-"');
    if (names.has(name)) throw new FeedsConfigError(line, `peer ${name} is defined twice`);
    names.add(name);
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(target ?? '');
    if (!m) throw new FeedsConfigError(line, `peer ${name} needs host:port, got ${JSON.stringify(target ?? '')}`);
    const port = Number(m[2]);
    if (!(port > 0 && port < 65536)) throw new FeedsConfigError(line, `bad port ${m[2]}`);
    const peer = { name, host: m[1]!.replace(/^\[|\]$/g, ''), port, mode: 'stream' as FeedMode, groups: '*', pathName: name, batch: 64 };
    for (const option of options) {
      const [key, value = ''] = option.split(/=(.*)/s);
      if (key === 'mode' && (value === 'ihave' || value === 'stream')) peer.mode = value;
      else if (key === 'groups') {
        try {
          wildmat(value);
        } catch (err) {
          throw new FeedsConfigError(line, `bad groups wildmat: ${(err as Error).message}`);
        }
        peer.groups = value;
      } else if (key === 'path' && /^[!-~]+$/.test(value) && !value.includes('!')) peer.pathName = value;
      else if (key === 'batch' && /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 1000) peer.batch = Number(value);
      else
        throw new FeedsConfigError(
          line,
          `bad option ${JSON.stringify(option)} (mode=ihave|stream, groups=WILDMAT, path=NAME, batch=1..1000)`,
        );
    }
    peers.push(peer);
  });
  return { peers, acceptFrom };
}

/** The Path header's host names, newest first. @see RFC 5536 §3.1.5 */
export function pathHosts(path: string): string[] {
  return path
    .split('!')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/**
 * True when `host` already appears in the Path (as an entry, or as a `.POSTED`/`.MISMATCH`
 * diagnostic of it): offering the article there would send it back where it has been.
 * @see RFC 5537 §3.3 (Path), §3.4
 */
export function pathNames(path: string, host: string): boolean {
  const wanted = host.toLowerCase();
  return pathHosts(path).some((entry) => {
    const e = entry.toLowerCase();
    return e === wanted || e === `${wanted}.posted` || e === `${wanted}.mismatch`;
  });
}
