import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryClient } from '@gorgon/core/testing';
import { admin, driveEveryProtocol, parseExposition, startDemo, sumOf } from './admin-helpers.js';
import { SpawnedDaemon } from './spawn-cli.js';

// The admin listener of a running suite (the built CLI, `gorgon serve --demo --ephemeral-ports`):
// /metrics moves as every protocol is driven through real sockets and passes promtool's lint,
// /status.json describes the daemons, /healthz turns 503 as soon as SIGTERM starts the drain.

const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
if (!promtool && process.env.CI) throw new Error('promtool is missing: scripts/install-clients.sh installs it (Debian package prometheus)');

describe('the admin listener of gorgon serve --demo', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let before: Map<string, number>;
  let after: Map<string, number>;
  let scrape: string;
  beforeAll(async () => {
    demo = await startDemo();
    const first = await admin(demo.url, '/metrics');
    before = parseExposition(first.body);
    await driveEveryProtocol(demo.daemon);
    const second = await admin(demo.url, '/metrics');
    expect(second.status).toBe(200);
    expect(second.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    scrape = second.body;
    after = parseExposition(scrape);
  }, 60_000);
  afterAll(async () => {
    await demo?.remove();
  });

  it('logs the status page address at start-up', () => {
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const line = demo.daemon.records.find((r) => r.event === 'admin-started');
    expect(line?.msg).toMatch(/^status page on http:\/\/127\.0\.0\.1:\d+\//);
    // After the daemons, before ready.
    const order = demo.daemon.records.map((r) => r.event).filter((e) => e === 'started' || e === 'admin-started' || e === 'ready');
    expect(order.slice(-2)).toEqual(['admin-started', 'ready']);
  });

  it('connections, commands, logins, bytes, TLS and errors move for every protocol', () => {
    const moved = (name: string, labels: Record<string, string>) => sumOf(after, name, labels) - sumOf(before, name, labels);
    for (const protocol of ['finger', 'pop3', 'ftp', 'nntp', 'http']) {
      expect(moved('gorgon_connections_total', { protocol }), protocol).toBeGreaterThanOrEqual(1);
      expect(moved('gorgon_sent_bytes_total', { protocol }), protocol).toBeGreaterThan(0);
      expect(moved('gorgon_received_bytes_total', { protocol }), protocol).toBeGreaterThan(0);
      expect(moved('gorgon_command_duration_seconds_count', { protocol }), protocol).toBeGreaterThanOrEqual(1);
      expect(sumOf(after, 'gorgon_connections_open', { protocol }), protocol).toBeGreaterThanOrEqual(0);
    }
    expect(moved('gorgon_commands_total', { protocol: 'pop3', verb: 'USER', reply: '2xx' })).toBe(2);
    expect(moved('gorgon_commands_total', { protocol: 'pop3', verb: 'PASS', reply: '5xx' })).toBe(1);
    expect(moved('gorgon_commands_total', { protocol: 'ftp', verb: 'PWD', reply: '2xx' })).toBe(1);
    expect(moved('gorgon_commands_total', { protocol: 'nntp', verb: 'DATE', reply: '1xx' })).toBe(1);
    expect(moved('gorgon_commands_total', { protocol: 'http', verb: 'GET', reply: '2xx' })).toBe(1);
    expect(moved('gorgon_commands_total', { protocol: 'finger', verb: 'QUERY', reply: '2xx' })).toBe(1);
    expect(moved('gorgon_commands_total', { protocol: 'finger', verb: 'QUERY', reply: '5xx' })).toBe(1);
    expect(moved('gorgon_logins_total', { protocol: 'pop3', result: 'ok' })).toBe(1);
    expect(moved('gorgon_logins_total', { protocol: 'pop3', result: 'failed' })).toBe(1);
    expect(moved('gorgon_logins_total', { protocol: 'ftp', result: 'ok' })).toBe(1);
    expect(moved('gorgon_tls_handshakes_total', { protocol: 'pop3', kind: 'implicit', result: 'ok' })).toBe(1);
    expect(moved('gorgon_tls_handshakes_total', { protocol: 'pop3', kind: 'implicit', result: 'failed' })).toBe(1);
    expect(moved('gorgon_errors_total', { protocol: 'pop3', kind: 'tls-failed', level: 'warn' })).toBe(1);
    expect(moved('gorgon_errors_total', { protocol: 'finger', kind: 'bad-query' })).toBe(1);
    expect(moved('gorgon_transfer_bytes_total', { protocol: 'finger', kind: 'query' })).toBeGreaterThan(0);
  });

  it('has the process figures (prefixed gorgon_) and the Prometheus naming', () => {
    for (const name of [
      'gorgon_process_cpu_seconds_total',
      'gorgon_process_resident_memory_bytes',
      'gorgon_nodejs_eventloop_lag_seconds',
      'gorgon_nodejs_heap_size_used_bytes',
    ]) {
      expect(after.has(name), name).toBe(true);
    }
    const types = [...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(types.length).toBeGreaterThan(20);
    for (const [name, type] of types) {
      expect(name).toMatch(/^gorgon_/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
    }
  });

  it.skipIf(!promtool)('passes promtool check metrics', () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
    expect(lint.status).toBe(0);
  });

  it('/status.json: every daemon with its address and counts, top clients, recent errors, process figures', async () => {
    const res = await admin(demo.url, '/status.json');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    const status = JSON.parse(res.body);
    expect(status).toMatchObject({
      phase: 'running',
      workers: 1,
      pid: demo.daemon.child.pid,
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    const names = status.daemons.map((d: { name: string }) => d.name);
    expect(names).toEqual(expect.arrayContaining(['fingerd', 'pop3d', 'ftpd', 'nntpd', 'httpd']));
    for (const d of status.daemons) {
      expect(d.address).toBe(`127.0.0.1:${demo.daemon.ports.get(d.name)}`);
      // pop3d's implicit-TLS port is pop3sd's, and so on; finger has none.
      const tls = demo.daemon.ports.get(d.name.replace(/d$/, 'sd'));
      expect(d.tlsAddress).toBe(tls === undefined ? undefined : `127.0.0.1:${tls}`);
      expect(d.total).toBeGreaterThanOrEqual(1);
    }
    expect(status.history.length).toBeGreaterThanOrEqual(1);
    expect(status.topClients[0]).toEqual({ address: '127.0.0.1', connections: expect.any(Number) });
    expect(status.topClients[0].connections).toBeGreaterThanOrEqual(6);
    const kinds = status.recentErrors.map((e: { kind: string }) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['tls-failed', 'bad-query']));
    expect(status.recentErrors.find((e: { kind: string }) => e.kind === 'bad-query').message).toContain('<b>bold</b>');
    expect(status.process.rssBytes).toBeGreaterThan(1_000_000);
  });

  it('/ is the status page (with its script allowed by hash only), anything else a 404', async () => {
    const page = await admin(demo.url, '/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<title>Gorgon status</title>');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const missing = await admin(demo.url, '/nothing-here');
    expect(missing.status).toBe(404);
  });
});

describe('/healthz follows the phase', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let daemon: SpawnedDaemon;
  afterAll(async () => {
    await demo?.remove();
  });

  it('200 while running, 503 once SIGTERM starts draining, and the listener closes last', async () => {
    demo = await startDemo();
    daemon = demo.daemon;
    const ok = await admin(demo.url, '/healthz');
    expect([ok.status, ok.body]).toEqual([200, 'ok\n']);
    // A POP3 client that reads its goodbye but does not close its side (half-open, like nc with
    // its input still open): the drain waits for it, up to the shutdown timeout.
    const client = new MemoryClient(netConnect({ port: daemon.ports.get('pop3d')!, host: '127.0.0.1', allowHalfOpen: true }));
    await client.line();
    daemon.child.kill('SIGTERM');
    let health = ok;
    for (let i = 0; i < 200 && health.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      health = await admin(demo.url, '/healthz');
    }
    expect([health.status, health.body]).toEqual([503, 'draining\n']);
    expect(daemon.alive).toBe(true);
    expect(await client.line(10_000)).toMatch(/^-ERR/);
    client.end();
    expect(await daemon.exited()).toBe(0);
    await expect(fetch(new URL('/healthz', demo.url))).rejects.toThrow();
  }, 60_000);
});

describe('--admin-port on a single daemon, and the admin: section of a config file', () => {
  it('gorgon fingerd --admin-port 0: the daemon under its protocol in /metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gorgon-admin-fingerd-'));
    const daemon = new SpawnedDaemon(['fingerd', '--system-users', '--port', '0', '--admin-port', '0'], dir);
    try {
      const started = await daemon.waitFor((r) => r.event === 'admin-started');
      const port = await daemon.started('fingerd');
      const c = new MemoryClient(netConnect(port, '127.0.0.1'));
      c.sendLine('');
      await c.readToEnd();
      const m = parseExposition((await admin(String(started.url), '/metrics')).body);
      expect(sumOf(m, 'gorgon_connections_total', { protocol: 'finger', daemon: 'fingerd' })).toBe(1);
      expect(sumOf(m, 'gorgon_commands_total', { protocol: 'finger', verb: 'QUERY', reply: '2xx' })).toBe(1);
      expect((await admin(String(started.url), '/healthz')).status).toBe(200);
    } finally {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('admin: { port, host } in the config starts it; a bad one is one sentence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gorgon-admin-config-'));
    writeFileSync(join(dir, 'gorgon.yaml'), 'admin:\n  port: 0\n  host: 127.0.0.1\nhttp:\n  port: 0\n  root: .\n');
    const daemon = new SpawnedDaemon(['serve', '--config', 'gorgon.yaml'], dir);
    try {
      const started = await daemon.waitFor((r) => r.event === 'admin-started');
      expect(String(started.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const status = JSON.parse((await admin(String(started.url), '/status.json')).body);
      expect(status.daemons.map((d: { name: string }) => d.name)).toEqual(['httpd']);
    } finally {
      await daemon.stop();
    }
    writeFileSync(join(dir, 'bad.yaml'), 'admin:\n  port: 99999\nhttp:\n  port: 0\n  root: .\n');
    const bad = new SpawnedDaemon(['serve', '--config', 'bad.yaml'], dir);
    expect(await bad.exited()).not.toBe(0);
    expect(bad.stderr).toMatch(/config file bad\.yaml: admin\.port \(line 2, column \d+\): /);
    rmSync(dir, { recursive: true, force: true });
  });
});
