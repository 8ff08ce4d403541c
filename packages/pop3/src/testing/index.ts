/**
 * `@gorgon/pop3/testing`: the MaildropStore contract suite, to run on your own store.
 * @packageDocumentation
 */
export { maildropContract, type MaildropFactory, type MaildropSubject } from './maildrop-contract.js';
export { runContract, type ContractCheck, type ContractReport } from '@gorgon/core/testing';
