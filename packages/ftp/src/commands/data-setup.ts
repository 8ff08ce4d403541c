import { activeTargetAllowed, DataConnectionError, formatPasv, parseEprtArg, parsePortArg } from '../data-channel.js';
import { FtpReplyError, replies } from '../replies.js';
import type { FtpSession } from '../session.js';
import type { FtpCommand } from './table.js';

function family(s: FtpSession): 1 | 2 {
  return s.channel.localAddress.includes(':') ? 2 : 1;
}

function notAfterEpsvAll(s: FtpSession, verb: string): void {
  // RFC 2428 §4: after EPSV ALL only EPSV sets up data connections.
  if (s.epsvAll) throw new FtpReplyError(replies.badSequence(`${verb} not allowed after EPSV ALL.`));
}

async function listen(s: FtpSession): Promise<number> {
  try {
    return await s.data.listenPassive();
  } catch (err) {
    if (err instanceof DataConnectionError) throw new FtpReplyError(replies.cannotOpenData("Can't open passive connection."));
    throw err;
  }
}

function setActive(s: FtpSession, host: string, port: number): void {
  if (!activeTargetAllowed(host, port, s.channel.remoteAddress)) {
    // RFC 2577 §3: no bounce to a third host, no privileged port.
    s.channel.log.warn({ event: 'port-refused', host, port }, 'PORT/EPRT to a foreign address or privileged port refused');
    throw new FtpReplyError(replies.parameterNotImplemented('Refused: data connections go only to your own address and ports >= 1024.'));
  }
  s.data.setActive(host, port);
  s.reply(replies.ok('PORT command successful. Consider using PASV.'));
}

/** PASV, EPSV, PORT, EPRT. @see RFC 959 §4.1.2, RFC 2428 */
export const dataSetupCommands: FtpCommand[] = [
  {
    verb: 'PASV',
    args: 'none',
    login: true,
    help: 'PASV (passive mode, IPv4)',
    async run(s) {
      notAfterEpsvAll(s, 'PASV');
      const host = s.ctx.masquerade ?? s.channel.localAddress;
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) throw new FtpReplyError(replies.cannotOpenData('PASV needs IPv4: use EPSV.'));
      const port = await listen(s);
      s.reply(replies.enteringPassive(formatPasv(host, port)));
    },
  },
  {
    verb: 'EPSV',
    args: 'optional',
    login: true,
    help: 'EPSV [<sp> 1 | 2 | ALL]',
    capability: 'EPSV',
    async run(s, arg) {
      const v = arg.trim().toUpperCase();
      if (v === 'ALL') {
        s.epsvAll = true;
        s.reply(replies.ok('EPSV ALL ok.'));
        return;
      }
      if (v !== '' && v !== '1' && v !== '2') throw new FtpReplyError(replies.syntax('Syntax: EPSV [<sp> 1 | 2 | ALL]'));
      if (v !== '' && Number(v) !== family(s)) throw new FtpReplyError(replies.extendedNotSupported(String(family(s))));
      s.reply(replies.enteringExtendedPassive(await listen(s)));
    },
  },
  {
    verb: 'PORT',
    args: 'required',
    login: true,
    help: 'PORT <sp> h1,h2,h3,h4,p1,p2',
    run(s, arg) {
      notAfterEpsvAll(s, 'PORT');
      const target = parsePortArg(arg);
      if (!target) throw new FtpReplyError(replies.syntax('Syntax: PORT <sp> h1,h2,h3,h4,p1,p2'));
      setActive(s, target.host, target.port);
    },
  },
  {
    verb: 'EPRT',
    args: 'required',
    login: true,
    help: 'EPRT <sp> |proto|address|port|',
    capability: 'EPRT',
    run(s, arg) {
      notAfterEpsvAll(s, 'EPRT');
      const target = parseEprtArg(arg);
      if (target === 'bad-family') throw new FtpReplyError(replies.extendedNotSupported(String(family(s))));
      if (!target) throw new FtpReplyError(replies.syntax('Syntax: EPRT <sp> |proto|address|port|'));
      if (target.family !== family(s)) throw new FtpReplyError(replies.extendedNotSupported(String(family(s))));
      setActive(s, target.host, target.port);
    },
  },
];
