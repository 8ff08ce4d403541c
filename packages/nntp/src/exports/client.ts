/**
 * `@gorgon/nntp/client`: an NNTP client (`NntpClient`: connect, STARTTLS, AUTHINFO, COMPRESS,
 * GROUP, OVER, ARTICLE pipelined with `for await`, POST, IHAVE, CHECK/TAKETHIS) and the seed's
 * retrieval and filter engines (`pullNews` into a Maildir or an mbox, `parseRules`/`judge`).
 * @see RFC 3977, RFC 4642, RFC 4643, RFC 4644, RFC 8054
 * @packageDocumentation
 */
export {
  NntpClient,
  dataLines,
  type ArticleResult,
  type FetchedArticle,
  type GroupSummary,
  type NntpClientOptions,
  type TransferOutcome,
} from '../client.js';
export {
  NntpClientError,
  type ClientConnectionLimits,
  type ClientResponse,
  type MultilineRule,
  type NntpClientErrorCode,
} from '../client-connection.js';
export { parseOverview, type OverviewRecord } from '../client-overview.js';
export { pullNews, parseNewsUrl, type PullEvent, type PullOptions, type PullResult, type PullServer } from '../pull.js';
export { openSink, maildirSink, mboxSink, type ArticleSink, type PullFormat } from '../pull-output.js';
export { PullState } from '../pull-state.js';
export {
  FilterRulesError,
  articleHeaders,
  judge,
  parseRules,
  type FilterRule,
  type FilterRules,
  type FilterVerdict,
  type RuleAction,
} from '../filter.js';
