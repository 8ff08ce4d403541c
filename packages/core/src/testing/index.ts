export { memoryChannelPair, MemoryClient } from './memory-client.js';
export { transcript, type TranscriptOptions } from './transcript.js';
export { leakGuard, type ResourceCounts } from './leak-guard.js';
export { memoryStreamPair, type MemoryPairOptions } from '../memory.js';
export { memoryLogger, type MemoryLogRecord } from '../logger.js';
export { runContract, type ContractCheck, type ContractReport } from './contract.js';
export { mountSmallDisk, type SmallDisk } from './small-disk.js';
