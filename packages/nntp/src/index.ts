/**
 * @gorgon/nntp: an RFC 977 / RFC 3977 news server (reader and transit, STARTTLS, AUTHINFO,
 * streaming feeds) over pluggable news stores (disk spool, memory).
 * @packageDocumentation
 */
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
} from './store.js';
export { replies, formatReply, type NntpReply, type ReplyName } from './replies.js';
export {
  NntpClient,
  dataLines,
  type ArticleResult,
  type FetchedArticle,
  type GroupSummary,
  type NntpClientOptions,
  type TransferOutcome,
} from './client.js';
export {
  ClientConnection,
  NntpClientError,
  type ClientConnectionLimits,
  type ClientResponse,
  type MultilineRule,
  type NntpClientErrorCode,
} from './client-connection.js';
export { parseOverview, type OverviewRecord } from './client-overview.js';
export { pullNews, parseNewsUrl, type PullEvent, type PullOptions, type PullResult, type PullServer } from './pull.js';
export { openSink, maildirSink, mboxSink, type ArticleSink, type PullFormat } from './pull-output.js';
export { PullState } from './pull-state.js';
export {
  FilterRulesError,
  articleHeaders,
  judge,
  parseRules,
  type FilterRule,
  type FilterRules,
  type FilterVerdict,
  type RuleAction,
} from './filter.js';
export { Feeds, type AcceptedArticle, type ArticleSource, type FeedsOptions } from './feeds.js';
export { FeedQueue, backoffDelay, type BackoffOptions, type QueueEntry } from './feed-queue.js';
export {
  FeedsConfigError,
  parseFeedsConfig,
  pathHosts,
  pathNames,
  type FeedMode,
  type FeedPeer,
  type FeedsConfig,
} from './feeds-config.js';
export { createNntpServer, type NntpServer, type NntpServerOptions } from './server.js';
export {
  createNntpContext,
  parseDistribPats,
  type DistribPattern,
  type NntpContext,
  type NntpOptions,
  type NntpStats,
  type GroupAccess,
} from './context.js';
export { NntpSession, NntpReplyError, type NntpState } from './session.js';
export { nntpCommands, capabilityLines, type NntpCommand, type OfferContext } from './commands/index.js';
export { defaultNntpLimits, implementationName, type NntpLimits } from './defaults.js';
export { MemoryNewsStore } from './store-memory.js';
export { DiskNewsStore, type DiskNewsStoreOptions } from './store-disk.js';
export { wildmat, isWildmat, type Matcher } from './wildmat.js';
export { parseArticle, checkArticle, isMessageId, ArticleError, type ParsedArticle, type HeaderField } from './article.js';
export { acceptArticle, type Acceptance } from './accept.js';
export { parseNntpDate, OVERVIEW_FMT } from './commands/list.js';
export { injectArticle } from './inject.js';
