import { fingerProtocol } from './finger.js';
import { pop3Protocol } from './pop3.js';
import { ftpProtocol } from './ftp.js';
import { nntpProtocol } from './nntp.js';
import { httpProtocol } from './http.js';
import type { SuiteProtocol } from './protocol.js';

/**
 * Every protocol `gorgon serve` knows, in start order. A protocol package joins the suite with
 * one module in this folder and one line here.
 */
export const protocols: ReadonlyArray<SuiteProtocol<unknown>> = [
  fingerProtocol as SuiteProtocol<unknown>,
  pop3Protocol as SuiteProtocol<unknown>,
  ftpProtocol as SuiteProtocol<unknown>,
  nntpProtocol as SuiteProtocol<unknown>,
  httpProtocol as SuiteProtocol<unknown>,
];
