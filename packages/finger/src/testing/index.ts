/**
 * `@gorgon/finger/testing`: the UserDirectory contract suite, to run on your own directory.
 * @packageDocumentation
 */
export { contractUsers, userDirectoryContract, type UserDirectoryFactory } from './directory-contract.js';
export { runContract, type ContractCheck, type ContractReport } from '@gorgon/core/testing';
