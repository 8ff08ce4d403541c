import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryAuthenticator, type GorgonServer } from '@gorgon/core';
import { MemoryClient, memoryStreamPair } from '@gorgon/core/testing';
import { createPop3Server, MemoryMaildropStore } from '@gorgon/pop3';
import { createLocalSource, type LocalSource } from '../src/admin/local-source.js';
import { Suite, type RunningDaemon } from '../src/suite.js';
import { parseExposition, sumOf } from './admin-helpers.js';

// Metrics and the local source follow the suite's daemons: attached to those added (a reload
// adds some at run time), detached from those removed without leaving a listener behind, and
// every record they keep is bounded.

/** The server as the suite sees it, counting the event listeners it holds. */
function counted(server: GorgonServer): { daemonServer: RunningDaemon['server']; listeners: () => number } {
  let listeners = 0;
  return {
    listeners: () => listeners,
    daemonServer: {
      on: (name, fn) => {
        listeners++;
        const off = server.on(name, fn);
        let removed = false;
        return () => {
          if (!removed) listeners--;
          removed = true;
          off();
        };
      },
      off: (name, fn) => server.off(name, fn),
      get counters() {
        return server.counters;
      },
      get connections() {
        return server.connections;
      },
    },
  };
}

const servers: GorgonServer[] = [];
const sources: LocalSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeoutMs: 200 })));
});

function pop3(): GorgonServer {
  const server = createPop3Server({ store: new MemoryMaildropStore(), auth: new MemoryAuthenticator([{ name: 'a', password: 'b' }]) });
  servers.push(server);
  return server;
}

async function session(port: number, lines: string[]): Promise<void> {
  const c = new MemoryClient(netConnect(port, '127.0.0.1'));
  await c.line();
  for (const line of lines) {
    c.sendLine(line);
    await c.line();
  }
  c.sendLine('QUIT');
  await c.readToEnd();
}

async function scrape(source: LocalSource): Promise<Map<string, number>> {
  return parseExposition((await source.metrics()).body);
}

describe('metrics follow the suite', () => {
  it('a daemon added at run time is counted; removed, it keeps no listener and its counts stay', async () => {
    const suite = new Suite();
    const source = createLocalSource(suite, { version: '9.9.9' });
    sources.push(source);
    const labels = { daemon: 'pop3d-reload-test' };
    const start = await scrape(source);
    const first = pop3();
    const { port } = await first.listen(0);
    const watched = counted(first);
    const daemon: RunningDaemon = {
      name: 'pop3d-reload-test',
      protocol: 'pop3',
      address: `127.0.0.1:${port}`,
      server: watched.daemonServer,
    };
    suite.add(daemon);
    expect(watched.listeners()).toBeGreaterThan(0);
    await session(port, ['USER a', 'PASS b', 'STAT']);
    let m = await scrape(source);
    expect(sumOf(m, 'gorgon_connections_total', labels) - sumOf(start, 'gorgon_connections_total', labels)).toBe(1);
    expect(sumOf(m, 'gorgon_commands_total', { ...labels, verb: 'STAT', reply: '2xx' })).toBe(1);
    expect(sumOf(m, 'gorgon_logins_total', { ...labels, result: 'ok' })).toBe(1);

    suite.remove(daemon);
    expect(watched.listeners()).toBe(0);
    m = await scrape(source);
    expect(sumOf(m, 'gorgon_connections_total', labels)).toBe(1);
    expect(sumOf(m, 'gorgon_connections_open', labels)).toBe(0);

    // The reload's new server under the same name: the counters go on from where they were.
    const second = pop3();
    const { port: port2 } = await second.listen(0);
    const again = counted(second);
    suite.add({ ...daemon, server: again.daemonServer });
    await session(port2, ['STAT']);
    m = await scrape(source);
    expect(sumOf(m, 'gorgon_connections_total', labels)).toBe(2);
    expect(sumOf(m, 'gorgon_commands_total', { ...labels, verb: 'STAT' })).toBe(2);
    source.close();
    expect(again.listeners()).toBe(0);
    const status = await source.status();
    expect(status.version).toBe('9.9.9');
  });
});

describe('the local source keeps bounded records', () => {
  it('history, top client addresses and recent errors', async () => {
    const suite = new Suite();
    const source = createLocalSource(suite, { sampleEveryMs: 5, historyMs: 20, maxClientAddresses: 3, topClients: 2, recentErrors: 4 });
    sources.push(source);
    const server = pop3();
    suite.add({ name: 'pop3d', protocol: 'pop3', address: 'memory', server });
    suite.setPhase('running');
    for (const [address, times] of [
      ['192.0.2.1', 3],
      ['192.0.2.2', 1],
      ['192.0.2.3', 2],
      ['192.0.2.4', 1],
      ['192.0.2.5', 1],
    ] as const) {
      for (let i = 0; i < times; i++) {
        const [a, b] = memoryStreamPair({ allowHalfOpen: [true, false] });
        server.accept(a, { remoteAddress: address });
        const c = new MemoryClient(b);
        await c.line();
        // An over-long line: a warning, so an entry in the recent errors.
        c.sendLine('x'.repeat(600));
        await c.line();
        c.end();
        await c.closed();
      }
    }
    await new Promise((r) => setTimeout(r, 60));
    const status = await source.status();
    expect(status.phase).toBe('running');
    expect(status.history.length).toBeLessThanOrEqual(5);
    expect(status.history.length).toBeGreaterThanOrEqual(2);
    expect(status.history.at(-1)!.connections).toEqual({ pop3d: 0 });
    // Three addresses remembered, the rest counted as `other`; the two busiest shown.
    expect(status.topClients).toEqual([
      { address: '192.0.2.1', connections: 3 },
      { address: '192.0.2.3', connections: 2 },
    ]);
    expect(status.recentErrors).toHaveLength(4);
    expect(status.recentErrors[0]).toMatchObject({ daemon: 'pop3d', kind: 'line-too-long' });
    expect(status.recentErrors[0]!.t).toBeGreaterThanOrEqual(status.recentErrors[3]!.t);
    expect(status.daemons).toEqual([expect.objectContaining({ name: 'pop3d', protocol: 'pop3', total: 8, connections: 0 })]);
    expect(source.phase()).toBe('running');
  });
});
