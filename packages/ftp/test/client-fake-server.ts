/**
 * A small scripted FTP server for client tests: files in a Map, passive data connections only,
 * a command log per connection, and hooks to answer a command differently (a refusal, a
 * misbehaviour). Written on plain `net`/`tls` so the client is tested against something that
 * shares no code with it.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';

/** One accepted control connection. */
export interface FakeSession {
  id: number;
  commands: string[];
  socket: net.Socket | tls.TLSSocket;
  user?: string;
  loggedIn: boolean;
  protectData: boolean;
  restart: number;
  /** Server side of the data connections opened in this session, in order. */
  dataSockets: Array<net.Socket | tls.TLSSocket>;
  reply(text: string): void;
}

/** What a hook returns: a reply text to send instead, `'close'` to hang up, or undefined to go on. */
export type HookResult = string | 'close' | undefined | Promise<string | 'close' | undefined>;

export interface FakeServerOptions {
  /** Files by path without a leading slash (`pub/a.txt`); directories are implied. */
  files?: Record<string, Buffer | string>;
  /** user → password; `anonymous` logs in with any password. Default: anonymous only. */
  users?: Record<string, string>;
  /** FEAT lines. Default MLST, SIZE, MDTM, REST STREAM, EPSV, UTF8. */
  features?: string[];
  /** Answer EPSV with 500, as old servers do. */
  noEpsv?: boolean;
  /** Address the PASV reply names (a NAT inside address, say). Default 127.0.0.1. */
  pasvHost?: string;
  /** Greeting lines (a multi-line greeting tests framing). */
  greeting?: string[];
  /** More connections than this get `421` and are closed. */
  maxConnections?: number;
  /** TLS: explicit (AUTH TLS) or implicit; data under PROT P is TLS with the same ticket keys. */
  tls?: { cert: string; key: string; implicit?: boolean };
  /** Called for every command before the default handling. */
  hook?: (session: FakeSession, verb: string, arg: string) => HookResult;
  /** Raw listing bodies by directory, sent instead of the generated ones (hostile names). */
  rawListing?: Record<string, string>;
  /**
   * Shared by several servers: sessions open now, and the most at once over all. A session
   * counts from its accept to its QUIT (or its close), as the client sees it.
   */
  tracker?: { open: number; max: number };
  /** Bytes of a RETR to send before cutting the data connection, for these paths, once each. */
  cutOnce?: Record<string, number>;
}

export interface FakeServer extends AsyncDisposable {
  port: number;
  sessions: FakeSession[];
  /** Most control connections open at once. */
  maxConcurrent: number;
  /** TLS data connections that resumed the control connection's session. */
  reusedDataSessions: number;
  files: Map<string, Buffer>;
  close(): Promise<void>;
}

const DEFAULT_FEATURES = ['MLST type*;size*;modify*;', 'SIZE', 'MDTM', 'REST STREAM', 'EPSV', 'UTF8'];
const MTIME = '20240102030405';

function normalise(cwd: string, arg: string): string {
  const joined = arg.startsWith('/') ? arg : `${cwd}/${arg}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return parts.join('/');
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const files = new Map(Object.entries(options.files ?? {}).map(([k, v]) => [k, Buffer.from(v)]));
  const users = options.users ?? {};
  const cut = new Map(Object.entries(options.cutOnce ?? {}));
  const sessions: FakeSession[] = [];
  const sockets = new Set<net.Socket>();
  const dataServers = new Set<net.Server>();
  const ticketKeys = Buffer.alloc(48, 7);
  const secureContext = options.tls ? tls.createSecureContext({ cert: options.tls.cert, key: options.tls.key }) : undefined;
  let open = 0;
  const state = { maxConcurrent: 0, reusedDataSessions: 0 };

  const isDir = (path: string): boolean => path === '' || [...files.keys()].some((f) => f.startsWith(`${path}/`));
  const children = (dir: string): Array<{ name: string; file?: Buffer }> => {
    const prefix = dir === '' ? '' : `${dir}/`;
    const seen = new Map<string, Buffer | undefined>();
    for (const [path, data] of files) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash === -1) seen.set(rest, data);
      else if (!seen.has(rest.slice(0, slash))) seen.set(rest.slice(0, slash), undefined);
    }
    return [...seen].map(([name, file]) => (file ? { name, file } : { name }));
  };

  const onControl = (socket: net.Socket | tls.TLSSocket): void => {
    sockets.add(socket);
    open++;
    state.maxConcurrent = Math.max(state.maxConcurrent, open);
    const tracker = options.tracker;
    if (tracker) tracker.max = Math.max(tracker.max, ++tracker.open);
    let counted = true;
    const uncount = (): void => {
      if (!counted) return;
      counted = false;
      if (tracker) tracker.open--;
      open--;
    };
    socket.on('close', () => {
      uncount();
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    const session: FakeSession = {
      id: sessions.length + 1,
      commands: [],
      socket,
      loggedIn: false,
      protectData: false,
      restart: 0,
      dataSockets: [],
      reply: (text) => {
        if (!session.socket.destroyed) session.socket.write(`${text}\r\n`);
      },
    };
    sessions.push(session);
    if (options.maxConnections !== undefined && open > options.maxConnections) {
      socket.end('421 Too many connections, try later.\r\n');
      return;
    }
    let cwd = '';
    let pendingData: Promise<net.Socket | tls.TLSSocket> | undefined;
    let buffer = '';
    let chain = Promise.resolve();

    const passive = async (): Promise<number> => {
      const server = net.createServer();
      dataServers.add(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      pendingData = new Promise((resolve) => {
        server.once('connection', (raw) => {
          server.close();
          dataServers.delete(server);
          sockets.add(raw);
          raw.on('close', () => sockets.delete(raw));
          raw.on('error', () => {});
          if (!session.protectData || !secureContext) return resolve(raw);
          const secure = new tls.TLSSocket(raw, { isServer: true, secureContext, ticketKeys } as tls.TLSSocketOptions);
          secure.on('error', () => {});
          secure.once('secure', () => {
            if (secure.isSessionReused()) state.reusedDataSessions++;
          });
          resolve(secure);
        });
      });
      return port;
    };

    const transfer = async (send: (data: net.Socket | tls.TLSSocket) => Promise<void>): Promise<void> => {
      if (!pendingData) return session.reply('425 Use PASV or EPSV first.');
      const data = await pendingData;
      pendingData = undefined;
      session.dataSockets.push(data);
      session.reply('150 Opening BINARY mode data connection.');
      await send(data);
    };

    const writeAll = (data: net.Socket | tls.TLSSocket, body: Buffer): Promise<void> =>
      new Promise((resolve) => data.end(body, () => resolve()));

    const handle = async (line: string): Promise<void> => {
      session.commands.push(line);
      const space = line.indexOf(' ');
      const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
      const arg = space === -1 ? '' : line.slice(space + 1);
      const hooked = await options.hook?.(session, verb, arg);
      if (hooked === 'close') {
        session.socket.destroy();
        return;
      }
      if (hooked !== undefined) {
        session.socket.write(hooked.endsWith('\r\n') ? hooked : `${hooked}\r\n`);
        return;
      }
      const path = normalise(cwd, arg);
      const needLogin = !['USER', 'PASS', 'FEAT', 'AUTH', 'QUIT', 'PBSZ', 'PROT', 'OPTS'].includes(verb);
      if (needLogin && !session.loggedIn) return session.reply('530 Please login with USER and PASS.');
      switch (verb) {
        case 'USER':
          session.user = arg;
          if (arg !== 'anonymous' && users[arg] === undefined && options.users === undefined)
            return session.reply('530 This server is anonymous only.');
          return session.reply('331 Please specify the password.');
        case 'PASS': {
          const expected = session.user === undefined ? undefined : users[session.user];
          if (session.user === 'anonymous' || (expected !== undefined && expected === arg)) {
            session.loggedIn = true;
            return session.reply('230 Login successful.');
          }
          return session.reply('530 Login incorrect.');
        }
        case 'AUTH':
          if (!secureContext || options.tls?.implicit) return session.reply('502 AUTH not available.');
          session.reply('234 Proceed with negotiation.');
          socket.removeAllListeners('data');
          upgrade(socket);
          return;
        case 'PBSZ':
          return session.reply('200 PBSZ=0');
        case 'PROT':
          session.protectData = arg.toUpperCase() === 'P';
          return session.reply('200 PROT now Private.');
        case 'FEAT':
          return session.reply(['211-Features:', ...(options.features ?? DEFAULT_FEATURES).map((f) => ` ${f}`), '211 End'].join('\r\n'));
        case 'OPTS':
        case 'TYPE':
          return session.reply('200 OK.');
        case 'PWD':
          return session.reply(`257 "/${cwd.replace(/"/g, '""')}" is the current directory`);
        case 'CWD':
          if (!isDir(path)) return session.reply('550 Failed to change directory.');
          cwd = path;
          return session.reply('250 Directory successfully changed.');
        case 'SIZE': {
          const file = files.get(path);
          return session.reply(file ? `213 ${file.length}` : '550 Could not get file size.');
        }
        case 'MDTM':
          return session.reply(files.has(path) ? `213 ${MTIME}` : '550 Could not get file modification time.');
        case 'EPSV':
          if (options.noEpsv) return session.reply('500 Unknown command.');
          return session.reply(`229 Entering Extended Passive Mode (|||${await passive()}|)`);
        case 'PASV': {
          const port = await passive();
          const host = (options.pasvHost ?? '127.0.0.1').replace(/\./g, ',');
          return session.reply(`227 Entering Passive Mode (${host},${port >> 8},${port & 255}).`);
        }
        case 'REST':
          session.restart = Number(arg);
          return session.reply(`350 Restart position accepted (${arg}).`);
        case 'RETR': {
          const file = files.get(path);
          const offset = session.restart;
          session.restart = 0;
          if (!file) return session.reply('550 Failed to open file.');
          return transfer(async (data) => {
            const limit = cut.get(path);
            if (limit !== undefined) {
              cut.delete(path);
              await new Promise<void>((resolve) => data.write(file.subarray(offset, offset + limit), () => resolve()));
              data.destroy();
              return session.reply('426 Failure writing network stream.');
            }
            await writeAll(data, file.subarray(offset));
            session.reply('226 Transfer complete.');
          });
        }
        case 'STOR':
        case 'APPE': {
          const offset = session.restart;
          session.restart = 0;
          return transfer(async (data) => {
            const parts: Buffer[] = [];
            for await (const chunk of data as AsyncIterable<Buffer>) parts.push(chunk);
            const old = files.get(path) ?? Buffer.alloc(0);
            const body = Buffer.concat(parts);
            files.set(path, verb === 'APPE' ? Buffer.concat([old, body]) : Buffer.concat([old.subarray(0, offset), body]));
            session.reply('226 Transfer complete.');
          });
        }
        case 'MLSD':
        case 'LIST':
        case 'NLST': {
          const dir = arg.startsWith('-') ? cwd : path;
          if (!isDir(dir)) return session.reply('550 No such directory.');
          const raw = options.rawListing?.[dir];
          if (raw !== undefined) {
            return transfer(async (data) => {
              await writeAll(data, Buffer.from(raw));
              session.reply('226 Directory send OK.');
            });
          }
          return transfer(async (data) => {
            const lines = children(dir).map(({ name, file }) => {
              if (verb === 'NLST') return name;
              if (verb === 'MLSD')
                return file ? `type=file;size=${file.length};modify=${MTIME}; ${name}` : `type=dir;modify=${MTIME}; ${name}`;
              return file
                ? `-rw-r--r--    1 1000     1000     ${String(file.length).padStart(8)} Jan 02  2024 ${name}`
                : `drwxr-xr-x    2 1000     1000         4096 Jan 02  2024 ${name}`;
            });
            if (verb === 'MLSD') lines.unshift(`type=cdir;modify=${MTIME}; .`);
            await writeAll(data, Buffer.from(lines.map((l) => `${l}\r\n`).join('')));
            session.reply('226 Directory send OK.');
          });
        }
        case 'QUIT':
          uncount();
          session.reply('221 Goodbye.');
          session.socket.end();
          return;
        default:
          return session.reply('502 Command not implemented.');
      }
    };

    const listen = (stream: net.Socket | tls.TLSSocket): void => {
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let index: number;
        // biome-ignore lint/suspicious/noAssignInExpressions: the usual indexOf scan loop: find the next line end, stop at -1
        while ((index = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, index).replace(/\r$/, '');
          buffer = buffer.slice(index + 1);
          chain = chain
            .then(() => handle(line))
            .catch(() => {
              session.socket.destroy();
            });
        }
      });
    };

    const upgrade = (raw: net.Socket | tls.TLSSocket): void => {
      const secure = new tls.TLSSocket(raw, { isServer: true, secureContext, ticketKeys } as tls.TLSSocketOptions);
      secure.on('error', () => {});
      buffer = '';
      session.socket = secure;
      listen(secure);
    };

    listen(socket);
    for (const line of options.greeting ?? ['220 Fake FTP ready.']) session.reply(line);
  };

  // Implicit TLS wraps the accepted socket like AUTH TLS does, so control and data connections
  // share one session-ticket setup and a data connection can resume the control session.
  const server = net.createServer((raw) => {
    if (!options.tls?.implicit) return onControl(raw);
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext, ticketKeys } as tls.TLSSocketOptions);
    secure.on('error', () => {});
    secure.once('secure', () => onControl(secure));
    raw.on('close', () => secure.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    for (const s of sessions) s.socket.destroy();
    for (const d of dataServers) d.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    sessions,
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    get reusedDataSessions() {
      return state.reusedDataSessions;
    },
    files,
    close,
    [Symbol.asyncDispose]: close,
  };
}
