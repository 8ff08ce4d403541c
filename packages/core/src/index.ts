/**
 * @gorgon/core: asyncore/asynchat for modern Node.
 * @packageDocumentation
 */
export { AsyncChat, defaultChatLimits, type ChatLimits } from './async-chat.js';
export { DeflateStream, type DeflateStreamOptions } from './compress.js';
export { Channel, normaliseAddress, type ChannelHandler, type ChannelOptions, type TlsUpgradeOptions } from './channel.js';
export { connect, type ConnectOptions } from './client.js';
export {
  CommandTable,
  splitCommand,
  type ArgumentRule,
  type CommandGate,
  type CommandObserver,
  type CommandSpec,
  type GateRefusal,
} from './command-table.js';
export { createCounters, type Counters } from './counters.js';
export { decodeLatin1Line, decodeName, encodeName, hasEscapes, hostPath, toWire } from './byte-names.js';
export { CoreError, ReplyError, errorText, type CoreErrorCode } from './errors.js';
export { isFdExhaustion, openFileLimit, type FdExhaustionCode } from './fd-watch.js';
export { Framer, type FrameRange, type FrameStep, type FrameStepKind, type Terminator } from './framer.js';
export { ListenerHandoff } from './handoff.js';
export { LineEscapingProducer, crlfLength, escapeMultiline, type LineEscapingOptions } from './line-escaping.js';
export { BufferRecycler, LentBuffers, outputBuffers } from './buffer-recycler.js';
export {
  AFTER_CR,
  type Allocate,
  escapeLines,
  escapeLinesJs,
  escapeLinesWasm,
  LINE_START,
  stateAfter,
  type EscapeState,
} from './crlf-dot-escape.js';
export { DEFAULT_MAX_DISCARD_BYTES, LineSession, type LineSessionOptions } from './line-session.js';
export { createListener, formatAddress, type Listener, type ListenerOptions, type RejectReason } from './listener.js';
export { logsDebug, memoryLogger, printable, silentLogger, type Logger, type MemoryLogRecord } from './logger.js';
export { Loop, tickForTimeouts, type LoopOptions, type Sweepable } from './loop.js';
export { Registry } from './registry.js';
export { memoryStreamPair, type MemoryPairOptions } from './memory.js';
export { OutputChannel, type OutputChannelOptions } from './output-channel.js';
export {
  CompositeProducer,
  FileProducer,
  GlobbingProducer,
  HookedProducer,
  IterableProducer,
  SimpleProducer,
  isEmptyChunk,
  streamProducer,
  type Chunk,
  type FileProducerOptions,
  type Producer,
} from './producers.js';
export {
  formatProxyV1,
  formatProxyV2,
  isTrusted,
  parseProxyHeader,
  readProxyHeader,
  trustList,
  type ProxyInfo,
  type ProxyParse,
} from './proxy-protocol.js';
export { createProtocolServer, type AcceptOptions, type GorgonServer, type LoginDeadline, type ProtocolServerSpec } from './server.js';
export {
  finishCommand,
  observeCommands,
  replyClassOf,
  ServerEvents,
  startCommand,
  tapLogger,
  type CommandTiming,
  type ConnectionInfo,
  type RefusalReason,
  type ReplyClass,
  type ServerEventMap,
  type ServerHooks,
} from './server-events.js';
export {
  checkCommonOptions,
  resolveLimits,
  ServerOptionError,
  type CommonServerOptions,
  type LimitMinimums,
  type ProxyProtocolOptions,
  type ServerLimits,
} from './server-options.js';
export { describeTlsFailure, isTlsHandshakeFailure, logTlsFailure } from './tls-failure.js';
export { replaceSecureContext, toSecureContext, type TlsServerOptions } from './tls.js';
export * from './auth/index.js';
