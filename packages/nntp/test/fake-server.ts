import type * as tls from 'node:tls';
import { LineSession, createListener, type Channel, type Listener } from '@gorgon/core';

/**
 * A small scripted NNTP peer for client tests over loopback: one group, articles by number and
 * id, POST/IHAVE/TAKETHIS with real dot-terminated input, STARTTLS, AUTHINFO, COMPRESS. It
 * records every command line, so tests can see pipelining and what was sent.
 */
export class FakeNntp extends LineSession {
  static articles = new Map<string, Buffer>();
  static order: string[] = [];
  static commands: string[] = [];
  static received: Buffer[] = [];
  static secureContext: tls.SecureContext | undefined;
  #data: { lines: Buffer[]; done: (article: Buffer) => void } | undefined;

  constructor(channel: Channel) {
    super(channel, { encoding: 'latin1', maxLineLength: 1 << 20 });
    this.push('200 fake ready\r\n');
  }

  static reset(): void {
    FakeNntp.articles = new Map();
    FakeNntp.order = [];
    FakeNntp.commands = [];
    FakeNntp.received = [];
  }

  static add(id: string, article: string): void {
    FakeNntp.articles.set(id, Buffer.from(article, 'latin1'));
    FakeNntp.order.push(id);
  }

  protected override async onLine(line: string): Promise<void> {
    const data = this.#data;
    if (data) {
      if (line === '.') {
        this.#data = undefined;
        const article = Buffer.concat(data.lines);
        FakeNntp.received.push(article);
        data.done(article);
      } else {
        data.lines.push(Buffer.from(line.startsWith('.') ? line.slice(1) : line, 'latin1'), Buffer.from('\r\n'));
      }
      return;
    }
    FakeNntp.commands.push(line);
    const [verb = '', ...args] = line.split(' ');
    const arg = args.join(' ');
    switch (verb.toUpperCase()) {
      case 'CAPABILITIES':
        this.push(
          '101 caps\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nSTREAMING\r\nSTARTTLS\r\nCOMPRESS DEFLATE\r\nAUTHINFO USER SASL\r\nSASL PLAIN\r\n.\r\n',
        );
        return;
      case 'STARTTLS':
        this.push('382 go\r\n');
        await this.startTls({ isServer: true, secureContext: FakeNntp.secureContext! });
        return;
      case 'COMPRESS':
        this.push('206 Compression active\r\n');
        await this.startCompress();
        return;
      case 'AUTHINFO':
        if (/^USER /i.test(arg)) this.push('381 pass\r\n');
        else if (arg === 'PASS secret') this.push('281 ok\r\n');
        else if (arg === `SASL PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}`) this.push('281 ok\r\n');
        else this.push('481 no\r\n');
        return;
      case 'LIST':
        this.push(`215 active\r\ntest.one ${FakeNntp.order.length} 1 y\r\ntest.empty 0 1 y\r\ntest.binaries 0 1 y\r\n.\r\n`);
        return;
      case 'GROUP':
        if (arg === 'test.empty' || arg === 'test.binaries') this.push(`211 0 1 0 ${arg}\r\n`);
        else if (arg === 'test.one') this.push(`211 ${FakeNntp.order.length} 1 ${FakeNntp.order.length} test.one\r\n`);
        else this.push('411 no such group\r\n');
        return;
      case 'OVER': {
        this.push('224 overview\r\n');
        FakeNntp.order.forEach((id, i) => {
          this.push(
            `${i + 1}\tSubject ${i + 1}\tme@x\tMon, 1 Jan 2024 00:00:00 GMT\t${id}\t\t${FakeNntp.articles.get(id)!.length}\t3\tXref: fake test.one:${i + 1}\r\n`,
          );
        });
        this.push('.\r\n');
        return;
      }
      case 'ARTICLE': {
        const n = Number(arg);
        const id = Number.isInteger(n) && n > 0 ? FakeNntp.order[n - 1] : FakeNntp.articles.has(arg) ? arg : undefined;
        if (!id) {
          this.push(arg.startsWith('<') ? '430 no such article\r\n' : '423 no such number\r\n');
          return;
        }
        const body = FakeNntp.articles.get(id)!.toString('latin1').replace(/^\./gm, '..');
        this.push(Buffer.from(`220 ${n || 0} ${id}\r\n${body}.\r\n`, 'latin1'));
        return;
      }
      case 'POST':
        this.push('340 send\r\n');
        this.#data = { lines: [], done: () => this.push('240 posted\r\n') };
        return;
      case 'IHAVE':
        if (FakeNntp.articles.has(arg)) this.push('435 duplicate\r\n');
        else {
          this.push('335 send\r\n');
          this.#data = {
            lines: [],
            done: (a) => {
              FakeNntp.add(arg, a.toString('latin1'));
              this.push('235 thanks\r\n');
            },
          };
        }
        return;
      case 'MODE':
        this.push(arg.toUpperCase() === 'STREAM' ? '203 streaming\r\n' : '200 reader\r\n');
        return;
      case 'CHECK':
        this.push(FakeNntp.articles.has(arg) ? `438 ${arg}\r\n` : `238 ${arg}\r\n`);
        return;
      case 'TAKETHIS':
        this.#data = {
          lines: [],
          done: (a) => {
            if (FakeNntp.articles.has(arg)) this.push(`439 ${arg}\r\n`);
            else {
              FakeNntp.add(arg, a.toString('latin1'));
              this.push(`239 ${arg}\r\n`);
            }
          },
        };
        return;
      case 'QUIT':
        this.push('205 bye\r\n');
        this.closeWhenDone();
        return;
      default:
        this.push('500 what\r\n');
    }
  }
}

/** Starts a fake server on a free loopback port. */
export async function startFake(): Promise<{ listener: Listener; port: number }> {
  const listener = createListener({ name: 'fake-nntp' }, (ch) => new FakeNntp(ch));
  const { port } = await listener.listen(0);
  return { listener, port };
}
