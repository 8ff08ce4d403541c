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
