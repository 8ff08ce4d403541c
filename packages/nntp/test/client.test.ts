import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toSecureContext } from '@gorgon/core';
import { createDemoCertificate } from '@gorgon/core/demo-certificate';
import { leakGuard } from '@gorgon/core/testing';
import { NntpClient, NntpClientError } from '@gorgon/nntp';
import { FakeNntp, startFake } from './fake-server.js';

let cert: string;

beforeAll(async () => {
  const pems = await createDemoCertificate('localhost');
  cert = pems.cert;
  FakeNntp.secureContext = toSecureContext(pems);
});

const ARTICLE = (n: number): string =>
  `From: me@x\r\nNewsgroups: test.one\r\nSubject: Subject ${n}\r\nMessage-ID: <a${n}@x>\r\n\r\nbody ${n}\r\n.leading dot\r\n..two dots\r\n`;

describe('NntpClient over loopback (scripted peer)', () => {
  let guard: ReturnType<typeof leakGuard>;
  beforeEach(() => {
    guard = leakGuard();
    FakeNntp.reset();
    for (let n = 1; n <= 50; n++) FakeNntp.add(`<a${n}@x>`, ARTICLE(n));
  });
  afterEach(async () => {
    await guard.check();
  });

  it('connects, reads capabilities, selects a group and reads the overview', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    expect(client.postingAllowed).toBe(true);
    const caps = await client.capabilities();
    expect(caps.get('COMPRESS')).toEqual(['DEFLATE']);
    expect(caps.has('STREAMING')).toBe(true);
    expect(await client.group('test.one')).toEqual({ count: 50, low: 1, high: 50, name: 'test.one' });
    const over = await client.over('1-');
    expect(over).toHaveLength(50);
    expect(over[4]).toMatchObject({ number: 5, subject: 'Subject 5', messageId: '<a5@x>', lines: 3, extra: ['Xref: fake test.one:5'] });
    await expect(client.group('no.such')).rejects.toMatchObject({ code: 'reply', reply: { code: 411 } });
    await client.quit();
  });

  it('ARTICLE pipelined: every request sent before the first answer is read, results in order, byte-exact', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    await client.group('test.one');
    const got: string[] = [];
    const specs = [...Array.from({ length: 50 }, (_, i) => i + 1), 99, '<missing@x>'];
    for await (const result of client.articles(specs, 64)) {
      if (result.ok) {
        expect(result.article.toString('latin1')).toBe(ARTICLE(result.number));
        got.push(result.messageId);
      } else got.push(`${result.request}:${result.code}`);
    }
    expect(got).toEqual([...Array.from({ length: 50 }, (_, i) => `<a${i + 1}@x>`), '99:423', '<missing@x>:430']);
    await client.quit();
  });

  it('POST and IHAVE send dot-stuffed data; IHAVE says duplicate for a known id', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    const article = 'From: a@b\nNewsgroups: test.one\nSubject: hi\n\n.dot line\nlast';
    await client.post(article);
    expect(FakeNntp.received[0]!.toString()).toBe('From: a@b\r\nNewsgroups: test.one\r\nSubject: hi\r\n\r\n.dot line\r\nlast\r\n');
    expect(await client.ihave('<new@x>', Buffer.from(ARTICLE(99)))).toBe('accepted');
    expect(await client.ihave('<a1@x>', Buffer.from(ARTICLE(1)))).toBe('duplicate');
    expect(FakeNntp.articles.get('<new@x>')!.toString()).toBe(ARTICLE(99));
    await client.quit();
  });

  it('MODE STREAM, CHECK and TAKETHIS pipelined, outcome per article', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    expect(await client.modeStream()).toBe(true);
    const checked = await client.check(['<a1@x>', '<s1@x>', '<s2@x>']);
    expect([...checked]).toEqual([
      ['<a1@x>', 'duplicate'],
      ['<s1@x>', 'wanted'],
      ['<s2@x>', 'wanted'],
    ]);
    const taken = await client.takeThis([
      { messageId: '<s1@x>', article: ARTICLE(101) },
      { messageId: '<s2@x>', article: ARTICLE(102) },
      { messageId: '<a2@x>', article: ARTICLE(2) },
    ]);
    expect([...taken]).toEqual([
      ['<s1@x>', 'accepted'],
      ['<s2@x>', 'accepted'],
      ['<a2@x>', 'rejected'],
    ]);
    expect(FakeNntp.articles.get('<s2@x>')!.toString()).toBe(ARTICLE(102));
    await client.quit();
  });

  it('STARTTLS, AUTHINFO USER/PASS, SASL PLAIN and COMPRESS DEFLATE, then commands still work', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    await client.startTls({ ca: cert, servername: 'localhost' });
    expect(client.channel.secure).toBe(true);
    await client.login('alice', 'secret');
    await client.loginSaslPlain('alice', 'secret');
    await expect(client.login('alice', 'wrong')).rejects.toMatchObject({ reply: { code: 481 } });
    await client.compress();
    await client.group('test.one');
    const one = await client.article(3);
    expect(one.article.toString()).toBe(ARTICLE(3));
    expect(FakeNntp.commands.slice(0, 5)).toEqual([
      'STARTTLS',
      'AUTHINFO USER alice',
      'AUTHINFO PASS secret',
      expect.stringMatching(/^AUTHINFO SASL PLAIN /),
      'AUTHINFO USER alice',
    ]);
    await client.quit();
  });

  it('a data block over the limit fails the connection with `limit`, memory bounded', async () => {
    FakeNntp.add('<big@x>', `Subject: big\r\n\r\n${'x'.repeat(900)}\r\n`.repeat(200));
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port, maxResponseBytes: 64 * 1024 });
    await expect(client.article('<big@x>')).rejects.toMatchObject({ code: 'limit' });
    await expect(client.group('test.one')).rejects.toBeInstanceOf(NntpClientError);
    await client.quit();
  });

  it('a closed connection fails pending requests with `closed`', async () => {
    const { listener, port } = await startFake();
    await using _ = listener;
    const client = await NntpClient.connect({ port });
    const pending = client.command('QUIT');
    const after = client.command('DATE');
    expect((await pending).code).toBe(205);
    const err = await after.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NntpClientError);
    expect((err as NntpClientError).code).toBe('closed');
    await client.quit();
  });
});
