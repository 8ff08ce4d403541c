import type { CommandModule } from 'yargs';
import { fingerCommand } from './finger.js';
import { fingerdCommand } from './fingerd.js';
import { fetchCommand } from './fetch.js';
import { getCommand } from './get.js';
import { ftpdCommand } from './ftpd.js';
import { httpdCommand } from './httpd.js';
import type { GlobalArgs } from './options.js';
import { serveCommand } from './serve.js';
import { pop3dCommand } from './pop3d.js';
import { deliverCommand } from './deliver.js';
import { passwdCommand } from './passwd.js';
import { newsCommand } from './news.js';
import { nntpdCommand } from './nntpd.js';
import { checkConfigCommand } from './check-config.js';
import { interopCommand } from './interop.js';

/** Every `gorgon` subcommand. A protocol adds its daemon and client commands here. */
// yargs types a command list only as CommandModule<T, any>: the handlers keep their own types.
export const commands: Array<CommandModule<GlobalArgs, never>> = [
  serveCommand as CommandModule<GlobalArgs, never>,
  checkConfigCommand as CommandModule<GlobalArgs, never>,
  fingerdCommand as CommandModule<GlobalArgs, never>,
  fingerCommand as CommandModule<GlobalArgs, never>,
  pop3dCommand as CommandModule<GlobalArgs, never>,
  deliverCommand as CommandModule<GlobalArgs, never>,
  passwdCommand as CommandModule<GlobalArgs, never>,
  ftpdCommand as CommandModule<GlobalArgs, never>,
  httpdCommand as CommandModule<GlobalArgs, never>,
  fetchCommand as CommandModule<GlobalArgs, never>,
  nntpdCommand as CommandModule<GlobalArgs, never>,
  newsCommand as CommandModule<GlobalArgs, never>,
  getCommand as CommandModule<GlobalArgs, never>,
  interopCommand as CommandModule<GlobalArgs, never>,
];
