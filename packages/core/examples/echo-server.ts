import { createListener, LineSession, splitCommand, type Channel } from '@gorgon/core';

/** ECHO <text>, TIME and QUIT, one reply each; pipelining, limits and backpressure for free. */
export class EchoSession extends LineSession {
  constructor(channel: Channel) {
    super(channel, { maxLineLength: 512 });
    this.push('200 echo server ready\r\n');
  }
  protected override onLine(line: string): void {
    const { verb, arg } = splitCommand(line);
    if (verb === 'ECHO') this.push(`250 ${arg}\r\n`);
    else if (verb === 'TIME') this.push(`250 ${new Date().toISOString()}\r\n`);
    else if (verb !== 'QUIT') this.push('500 unknown command\r\n');
    else {
      this.push('221 bye\r\n');
      this.closeWhenDone();
    }
  }
  protected override onLineTooLong(): void {
    this.push('500 line too long\r\n');
  }
}

/** Listens on `port` (0: any free one); `await listener.close()` says goodbye to everyone. */
export async function startEchoServer(port = 7007, host = '127.0.0.1') {
  const listener = createListener({ name: 'echo', idleTimeoutMs: 300_000 }, (ch) => new EchoSession(ch));
  await listener.listen(port, host);
  return listener;
}
