/**
 * `@gorgon/ftp/testing`: the VirtualFs contract suite, to run on your own filesystem.
 * @packageDocumentation
 */
export { contractFiles, virtualFsContract, type VirtualFsFactory } from './fs-contract.js';
export { runContract, type ContractCheck, type ContractReport } from '@gorgon/core/testing';
