import { describe, expect, it } from 'vitest';
import { parseDistribPats } from '../src/index.js';
import { article, play, readMultiline, startSession, testContext, wire } from './helpers.js';

/** Transcripts of RFC 3977 examples over the in-memory transport. */
describe('NNTP session (RFC 3977 transcripts)', () => {
  it('greets 201 for anonymous (posting off by default) and answers CAPABILITIES from the table (§5.1, §5.2)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: 201 Gorgon NNTP server ready, posting prohibited
      C: CAPABILITIES
      S: 101 Capability list:
    `,
    );
    const caps = await readMultiline(client);
    expect(caps[0]).toBe('VERSION 2');
    expect(caps).toEqual(
      expect.arrayContaining([
        'READER',
        'POST',
        'IHAVE',
        'OVER MSGID',
        'HDR',
        'NEWNEWS',
        'MODE-READER',
        'STREAMING',
        'AUTHINFO USER SASL',
        'SASL PLAIN',
      ]),
    );
    expect(caps.find((c) => c.startsWith('LIST '))).toContain('OVERVIEW.FMT');
    expect(caps.at(-1)).toMatch(/^IMPLEMENTATION /);
    expect(caps).not.toContain('STARTTLS'); // no certificate configured
  });

  it('GROUP, ARTICLE/HEAD/BODY/STAT by number and id, NEXT and LAST (§6.1, §6.2)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: /^201 /
      C: ARTICLE 1
      S: 412 no newsgroup selected
      C: GROUP nosuch.group
      S: 411 no such newsgroup
      C: GROUP misc.test
      S: 211 3 1 3 misc.test
      C: STAT
      S: 223 1 <1@example.org>
      C: NEXT
      S: 223 2 <2@example.org>
      C: NEXT
      S: 223 3 <3@example.org>
      C: NEXT
      S: 421 no next article in this group
      C: LAST
      S: 223 2 <2@example.org>
      C: STAT 99
      S: 423 no article with that number
      C: STAT 99999999999999999999
      S: 501 syntax error in arguments
      C: STAT <nosuch@example.org>
      S: 430 no article with that message-id
      C: STAT <3@example.org>
      S: 223 0 <3@example.org>
      C: STAT
      S: 223 2 <2@example.org>
      C: HEAD 1
      S: 221 1 <1@example.org>
    `,
    );
    const head = await readMultiline(client);
    expect(head[0]).toBe('Path: seed!not-for-mail');
    expect(head).toContain('Subject: first');
    expect(head.at(-1)).toBe('Xref: seed misc.test:1');
    client.sendLine('BODY <1@example.org>');
    expect(await client.line()).toBe('222 0 <1@example.org>');
    expect(await readMultiline(client)).toEqual(['Body line one.', '..A line starting with a dot.']);
    client.sendLine('ARTICLE 2');
    expect(await client.line()).toBe('220 2 <2@example.org>');
    const whole = await readMultiline(client);
    expect(whole).toContain('');
    expect(whole).toContain('Xref: seed misc.test:2 comp.lang.c:1');
  });

  it('LISTGROUP with ranges, LIST variants, NEWGROUPS and NEWNEWS with GMT and two-digit years (§6.1.2, §7.3, §7.4, §7.6)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await client.line();
    client.sendLine('LISTGROUP misc.test 2-');
    expect(await client.line()).toBe('211 3 1 3 misc.test list follows');
    expect(await readMultiline(client)).toEqual(['2', '3']);
    client.sendLine('LISTGROUP');
    await client.line();
    expect(await readMultiline(client)).toEqual(['1', '2', '3']);
    client.sendLine('LIST');
    expect(await client.line()).toBe('215 information follows');
    expect(await readMultiline(client)).toEqual(['comp.lang.c 1 1 y', 'misc.test 3 1 y', 'news.announce 0 1 n']);
    client.sendLine('LIST ACTIVE *.test,!misc.*');
    await client.line();
    expect(await readMultiline(client)).toEqual([]);
    client.sendLine('LIST ACTIVE.TIMES misc.*');
    await client.line();
    expect(await readMultiline(client)).toEqual(['misc.test 1700000000 gorgon']);
    client.sendLine('LIST NEWSGROUPS comp.*');
    await client.line();
    expect(await readMultiline(client)).toEqual(['comp.lang.c\tC language']);
    client.sendLine('LIST OVERVIEW.FMT');
    await client.line();
    expect(await readMultiline(client)).toEqual([
      'Subject:',
      'From:',
      'Date:',
      'Message-ID:',
      'References:',
      ':bytes',
      ':lines',
      'Xref:full',
    ]);
    client.sendLine('LIST HEADERS');
    await client.line();
    expect(await readMultiline(client)).toEqual([':', ':bytes', ':lines']);
    client.sendLine('LIST DISTRIB.PATS'); // not configured: not maintained (RFC 3977 §7.6.1)
    expect(await client.line()).toBe('503 data item not stored');
    client.sendLine('LIST NOSUCH');
    expect(await client.line()).toBe('503 feature not supported');
    client.sendLine('NEWGROUPS 20231114 221400 GMT'); // 1700000040: after misc.test
    expect(await client.line()).toBe('231 list of new newsgroups follows');
    expect(await readMultiline(client)).toEqual(['comp.lang.c 1 1 y', 'news.announce 0 1 n']);
    client.sendLine('NEWGROUPS 231114 221400');
    await client.line();
    expect((await readMultiline(client)).length).toBe(2);
    client.sendLine('NEWGROUPS 2023 1');
    expect(await client.line()).toBe('501 syntax error in arguments');
    client.sendLine('NEWNEWS comp.* 20231101 000000 GMT');
    expect(await client.line()).toBe('230 list of new articles follows');
    expect(await readMultiline(client)).toEqual(['<2@example.org>']);
    client.sendLine('NEWNEWS * 20991101 000000');
    await client.line();
    expect(await readMultiline(client)).toEqual([]);
  });

  it('OVER/XOVER by range and id, HDR/XHDR/XPAT (§8.3, §8.5; RFC 2980)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await client.line();
    client.sendLine('OVER 1-2');
    expect(await client.line()).toBe('412 no newsgroup selected');
    client.sendLine('GROUP misc.test');
    await client.line();
    client.sendLine('OVER 1-2');
    expect(await client.line()).toBe('224 overview information follows');
    const over = await readMultiline(client);
    expect(over).toHaveLength(2);
    const f = over[0]!.split('\t');
    expect(f[0]).toBe('1');
    expect(f[1]).toBe('first');
    expect(f[4]).toBe('<1@example.org>');
    expect(f[8]).toBe('Xref: seed misc.test:1');
    client.sendLine('XOVER 5-9');
    expect(await client.line()).toBe('423 no articles in that range');
    client.sendLine('OVER <3@example.org>');
    await client.line();
    expect((await readMultiline(client))[0]!.startsWith('0\tthird\t')).toBe(true);
    client.sendLine('HDR Subject 1-');
    expect(await client.line()).toBe('225 headers follow');
    expect(await readMultiline(client)).toEqual(['1 first', '2 second', '3 third']);
    client.sendLine('XHDR Newsgroups 2');
    expect(await client.line()).toBe('221 headers follow');
    expect(await readMultiline(client)).toEqual(['2 misc.test,comp.lang.c']);
    client.sendLine('XPAT Subject 1-3 *ir*');
    expect(await client.line()).toBe('221 headers follow');
    expect(await readMultiline(client)).toEqual(['1 first', '3 third']);
  });

  it('HELP, DATE, SLAVE, MODE READER, unknown commands, bad arguments, QUIT (§5.3, §5.4, §7.1, §7.2; RFC 977 §3.12)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: /^201 /
      C: MODE READER
      S: /^201 /
      C: DATE
      S: /^111 20\\d{12}$/
      C: SLAVE
      S: 202 slave status noted
      C: FROB
      S: 500 unknown command
      C: GROUP
      S: 501 syntax error in arguments
      C: LAST now
      S: 501 syntax error in arguments
      C: HELP
      S: 100 Help text follows
    `,
    );
    const help = await readMultiline(client);
    expect(help.some((l) => l.includes('NEWNEWS'))).toBe(true);
    client.sendLine('QUIT');
    expect(await client.line()).toBe('205 closing connection');
    await client.closed();
  });

  it('a command line over 512 octets gets 501 and the session goes on (§3.1)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    await client.line();
    client.sendLine(`GROUP ${'x'.repeat(600)}`);
    expect(await client.line()).toBe('501 line too long');
    client.sendLine('GROUP misc.test');
    expect(await client.line()).toBe('211 3 1 3 misc.test');
  });

  it('POST: refused anonymously (480: log in first), accepted after AUTHINFO, stored byte-exact with Path, Message-ID, Xref (§6.3.1, RFC 4643 §2.3)', async () => {
    const { ctx, store } = await testContext();
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: /^201 /
      C: POST
      S: 480 authentication required
      C: AUTHINFO PASS wonderland
      S: 482 authentication commands issued out of sequence
      C: AUTHINFO USER alice
      S: 381 password required
      C: AUTHINFO PASS wrong
      S: 481 authentication failed
      C: AUTHINFO USER alice
      S: 381 password required
      C: AUTHINFO PASS wonderland
      S: 281 authentication accepted
      C: AUTHINFO USER alice
      S: 502 command unavailable
      C: POST
      S: 340 send article to be posted; end with <CR-LF>.<CR-LF>
    `,
    );
    const text = article({ body: 'caf\xe9 latin1 byte\r\n.dot line\r\n' });
    client.send(Buffer.from(wire(text), 'latin1'));
    expect(await client.line()).toBe('240 article received OK');
    const n = (await store.group('misc.test'))!.high;
    expect(n).toBe(4);
    const a = (await store.articleByNumber('misc.test', 4))!;
    const s = a.data.toString('latin1');
    expect(s.startsWith('Path: gorgon.test!not-for-mail\r\n')).toBe(true);
    expect(s).toMatch(/\r\nMessage-ID: <[^>]+@gorgon.test>\r\n/);
    expect(s).toContain('\r\nXref: gorgon.test misc.test:4\r\n\r\n');
    expect(a.data.subarray(a.bodyOffset).toString('latin1')).toBe('caf\xe9 latin1 byte\r\n.dot line\r\n');
    client.sendLine('GROUP misc.test');
    await client.line();
    client.sendLine('BODY 4');
    await client.line();
    expect(await readMultiline(client)).toEqual(
      ['caf\xe9 latin1 byte'.replace('\xe9', '\ufffd'), '..dot line'].map((l, i) => (i === 0 ? expect.any(String) : l)),
    );
  });

  it('AUTHINFO SASL PLAIN with an initial response and as a continuation (RFC 4643 §2.4)', async () => {
    const { ctx } = await testContext();
    const { client } = startSession(ctx);
    const good = Buffer.from('\0alice\0wonderland').toString('base64');
    await play(
      client,
      `
      S: /^201 /
      C: AUTHINFO SASL DIGEST-MD5
      S: 503 feature not supported
      C: AUTHINFO SASL PLAIN
      S: 383 =
      C: !!!
      S: 501 syntax error in arguments
      C: AUTHINFO SASL PLAIN ${good}
      S: 281 authentication accepted
      C: MODE READER
      S: /^200 /
    `,
    );
  });

  it('POST validation: missing headers, bad Message-ID, missing group, read-only group, future Date, too large (441)', async () => {
    const { ctx, store } = await testContext({ users: { alice: { post: '*' } }, limits: { maxArticleBytes: 4096 } });
    await store.createGroup('mod.test', { status: 'm' });
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: /^201 /
      C: AUTHINFO USER alice
      S: 381 password required
      C: AUTHINFO PASS wonderland
      S: 281 authentication accepted
    `,
    );
    const cases: [string, RegExp][] = [
      ['Subject: no from\r\nNewsgroups: misc.test\r\n\r\nbody\r\n', /^441 posting failed: missing From header$/],
      [article({ id: '<no-at-sign>' }), /^441 .*bad Message-ID/],
      [article({ groups: 'alt.nowhere' }), /^441 .*no such newsgroup/],
      [article({ groups: 'news.announce' }), /^441 .*does not allow posting/],
      [article({ groups: 'mod.test' }), /^441 .*mod\.test is moderated/],
      [article({ date: 'Fri, 01 Jan 2100 00:00:00 GMT' }), /^441 .*future/],
      [article({ body: `${'x'.repeat(70)}\r\n`.repeat(100) }), /^441 .*too large/],
      ['no header at all\r\n', /^441 .*malformed header/],
      [article({ id: '<1@example.org>' }), /^441 .*duplicate/],
    ];
    for (const [text, re] of cases) {
      client.sendLine('POST');
      expect(await client.line()).toMatch(/^340 /);
      client.send(wire(text));
      expect(await client.line()).toMatch(re);
    }
    client.sendLine('GROUP misc.test');
    expect(await client.line()).toBe('211 3 1 3 misc.test');
  });

  it('every refused article gets one article-refused log line with its reason (POST 441, TAKETHIS 439)', async () => {
    const { ctx, records } = await testContext({ anonymous: { read: '*', post: '*' }, limits: { maxArticleBytes: 4096 } });
    const { client } = startSession(ctx);
    expect(await client.line()).toMatch(/^200 /);
    const post = async (text: string) => {
      client.sendLine('POST');
      expect(await client.line()).toMatch(/^340 /);
      client.send(wire(text));
      expect(await client.line()).toMatch(/^441 /);
    };
    await post(article({ groups: 'alt.nowhere' }));
    await post(article({ id: '<1@example.org>' }));
    await post(article({ body: `${'x'.repeat(70)}\r\n`.repeat(100) }));
    client.send(`MODE STREAM\r\nTAKETHIS <t1@peer>\r\n${wire(article({ id: '<t2@peer>', path: 'peer' }))}`);
    expect(await client.line()).toMatch(/^203 /);
    expect(await client.line()).toBe('439 <t1@peer>');
    const refused = records.filter((r) => r.event === 'article-refused');
    expect(refused.map((r) => [r.kind, r.reason, r.transit])).toEqual([
      ['reject', 'no such newsgroup', false],
      ['duplicate', 'duplicate Message-ID', false],
      ['reject', 'article too large', false],
      ['reject', 'Message-ID does not match the command', true],
    ]);
    expect(refused[1]!.messageId).toBe('<1@example.org>');
    expect(refused[3]!.messageId).toBe('<t2@peer>');
    expect(refused.every((r) => r.level === 'info' && typeof r.msg === 'string' && r.msg.startsWith('article refused: '))).toBe(true);
  });

  it('AUTHINFO: 483 over cleartext from a remote address when TLS is required; closed after maxAuthFailures (RFC 4643 §2.2, §2.3)', async () => {
    const { ctx } = await testContext({ requireTlsForAuth: true, limits: { maxAuthFailures: 2 } });
    const { client } = startSession(ctx, '192.0.2.7');
    await play(
      client,
      `
      S: /^201 /
      C: AUTHINFO USER alice
      S: 483 encryption or stronger authentication required
    `,
    );
    const { ctx: ctx2 } = await testContext({ limits: { maxAuthFailures: 2 } });
    const second = startSession(ctx2, '192.0.2.8').client;
    await play(
      second,
      `
      S: /^201 /
      C: AUTHINFO USER alice
      S: 381 password required
      C: AUTHINFO PASS bad
      S: 481 authentication failed
      C: AUTHINFO USER nobody
      S: 381 password required
      C: AUTHINFO PASS bad
      S: 481 too many failed logins; closing connection
    `,
    );
    await second.closed();
  });

  it('anonymous posting to the groups `anonymous.post` names: greeting 200, POST there, 441 elsewhere', async () => {
    const { ctx } = await testContext({ anonymous: { post: 'misc.*' } });
    const { client } = startSession(ctx);
    await play(
      client,
      `
      S: 200 Gorgon NNTP server ready, posting allowed
      C: POST
      S: /^340 /
    `,
    );
    client.send(wire(article()));
    expect(await client.line()).toBe('240 article received OK');
    client.sendLine('POST');
    await client.line();
    client.send(wire(article({ groups: 'comp.lang.c' })));
    expect(await client.line()).toBe('441 posting failed: posting to comp.lang.c not allowed');
  });

  it('LIST DISTRIB.PATS serves the configured patterns, an empty list as an empty 215; a bad entry is refused at start (§7.6.5)', async () => {
    const pats = parseDistribPats('# weight:pattern:distribution\n10:local.*:local\n\n5:*:world\n');
    expect(pats).toEqual([
      { weight: 10, wildmat: 'local.*', distribution: 'local' },
      { weight: 5, wildmat: '*', distribution: 'world' },
    ]);
    const { ctx } = await testContext({ distribPats: pats });
    const { client } = startSession(ctx);
    await client.line();
    client.sendLine('LIST DISTRIB.PATS');
    expect(await client.line()).toBe('215 information follows');
    expect(await readMultiline(client)).toEqual(['10:local.*:local', '5:*:world']);
    client.sendLine('list distrib.pats extra');
    expect(await client.line()).toBe('501 syntax error in arguments');
    const empty = startSession((await testContext({ distribPats: [] })).ctx).client;
    await empty.line();
    empty.sendLine('LIST DISTRIB.PATS');
    expect(await empty.line()).toBe('215 information follows');
    expect(await readMultiline(empty)).toEqual([]);
    expect(() => parseDistribPats('10:local.*\n')).toThrow(/line 1/);
    expect(() => parseDistribPats('x:*:world')).toThrow(/weight:wildmat:distribution/);
    await expect(testContext({ distribPats: [{ weight: -1, wildmat: '*', distribution: 'world' }] })).rejects.toThrow(/weight/);
    await expect(testContext({ distribPats: [{ weight: 1, wildmat: '*', distribution: 'two words' }] })).rejects.toThrow(/distribution/);
  });
});
