/**
 * `@gorgon/nntp/server`: the RFC 977 / RFC 3977 news server (reader and transit, STARTTLS,
 * AUTHINFO, streaming feeds) and its stores: the NewsStore interface, the disk spool and the
 * memory store, filing an article directly (demo data, imports), and feeds to and from peers.
 * @see RFC 3977, RFC 4642, RFC 4643, RFC 4644
 * @packageDocumentation
 */
export { createNntpServer, type NntpServer, type NntpServerOptions } from '../server.js';
export { parseDistribPats, type DistribPattern, type GroupAccess, type NntpStats } from '../context.js';
export type { NntpLimits } from '../defaults.js';
// Type only: what a custom command (the `commands` option) is given.
export type { NntpSession, NntpState } from '../session.js';
export type { NntpReply } from '../replies.js';
export {
  NewsStoreError,
  isValidGroupName,
  type AddResult,
  type ArticleLocation,
  type ExpireReport,
  type ExpireRule,
  type GroupInfo,
  type GroupStatus,
  type HistoryState,
  type NewArticle,
  type NewsStore,
  type OverviewEntry,
  type StoredArticle,
} from '../store.js';
export { MemoryNewsStore } from '../store-memory.js';
export { DiskNewsStore, type DiskNewsStoreOptions } from '../store-disk.js';
export { injectArticle } from '../inject.js';
export { isWildmat, wildmat, type Matcher } from '../wildmat.js';
export { Feeds, type AcceptedArticle, type ArticleSource, type FeedsOptions } from '../feeds.js';
export { FeedQueue, backoffDelay, type BackoffOptions, type QueueEntry } from '../feed-queue.js';
export {
  FeedsConfigError,
  parseFeedsConfig,
  pathHosts,
  pathNames,
  type FeedMode,
  type FeedPeer,
  type FeedsConfig,
} from '../feeds-config.js';
