/**
 * `@gorgon/nntp/testing`: the NewsStore contract suite, to run on your own store.
 * @packageDocumentation
 */
export { newsStoreContract, type NewsStoreFactory, type NewsStoreSubject } from './store-contract.js';
export { runContract, type ContractCheck, type ContractReport } from '@gorgon/core/testing';
