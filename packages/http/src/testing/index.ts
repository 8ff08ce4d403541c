/**
 * `@gorgon/http/testing`: the HttpStore contract suite, to run on your own store.
 * @packageDocumentation
 */
export { httpStoreContract, type HttpStoreFactory, type HttpStoreSubject } from './store-contract.js';
export { runContract, type ContractCheck, type ContractReport } from '@gorgon/core/testing';
