/**
 * `@gorgon/http/client`: the HTTP/1.1 GET client and the grabber behind `gorgon get`.
 * @packageDocumentation
 */
export * from '../client.js';
