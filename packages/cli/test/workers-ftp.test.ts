import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPortRange } from '../src/workers/port-split.js';
import { SpawnedDaemon } from './spawn-cli.js';
import { makeWorkersSite, type WorkersSite } from './workers-setup.js';

const run = promisify(execFile);
const SESSIONS = 16;

// Python's ftplib (a stock client: PASV for IPv4), one thread per session, all at once: each
// logs in as its own user, RETRs pub/data.bin over PASV, STORs a file of its own and RETRs it back.
const FTPLIB = `
import ftplib, hashlib, io, json, sys, threading
host, port, n, password = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
results = [None] * n
def session(i):
    try:
        ftp = ftplib.FTP()
        ftp.connect(host, port, timeout=20)
        ftp.login('u%d' % (i + 1), password)
        ftp.set_pasv(True)
        got = io.BytesIO()
        ftp.retrbinary('RETR pub/data.bin', got.write)
        mine = (('session %d ' % i) * 2000).encode()
        ftp.storbinary('STOR up/s%d.bin' % i, io.BytesIO(mine))
        back = io.BytesIO()
        ftp.retrbinary('RETR up/s%d.bin' % i, back.write)
        ftp.quit()
        results[i] = {'ok': True, 'sha': hashlib.sha256(got.getvalue()).hexdigest(), 'roundtrip': back.getvalue() == mine}
    except Exception as e:
        results[i] = {'ok': False, 'error': repr(e)}
threads = [threading.Thread(target=session, args=(i,)) for i in range(n)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results))
`;

describe('gorgon serve --workers 2: FTP on shared ports, passive ports split', () => {
  let site: WorkersSite;
  beforeAll(async () => {
    site = await makeWorkersSite({ users: SESSIONS, pasvPorts: 40 });
  });
  afterAll(async () => rm(site.dir, { recursive: true, force: true }));

  it('serves parallel PASV sessions (RETR and STOR) from both workers, each on its own passive ports', async () => {
    const daemon = new SpawnedDaemon(['serve', '--config', site.config, '--workers', '2', '--log-level', 'debug'], site.dir);
    try {
      const ready = await daemon.waitFor((r) => r.event === 'workers-ready', 0, 30_000);
      expect(ready.workers).toBe(2);
      const port = daemon.ports.get('ftpd')!;
      // Both workers listen behind the one port.
      const started = daemon.records.filter((r) => r.event === 'started' && r.daemon === 'ftpd');
      expect(started.map((r) => r.worker).sort()).toEqual([1, 2]);
      expect(new Set(started.map((r) => r.address)).size).toBe(1);

      const { stdout } = await run('python3', ['-c', FTPLIB, '127.0.0.1', String(port), String(SESSIONS), site.password], {
        timeout: 60_000,
      });
      const results = JSON.parse(stdout) as Array<{ ok: boolean; sha?: string; roundtrip?: boolean; error?: string }>;
      expect(results.filter((r) => !r.ok)).toEqual([]);
      for (const r of results) {
        expect(r.sha).toBe(site.sha256);
        expect(r.roundtrip).toBe(true);
      }
      for (let i = 0; i < SESSIONS; i++) {
        const stored = await readFile(join(site.root, 'up', `s${i}.bin`));
        expect(stored.equals(Buffer.from(`session ${i} `.repeat(2000)))).toBe(true);
      }

      // Every session logged in on one worker or the other, and both served.
      const logins = daemon.records.filter((r) => r.event === 'login');
      expect(logins).toHaveLength(SESSIONS);
      expect(new Set(logins.map((r) => r.worker))).toEqual(new Set([1, 2]));
      // Each passive port came from its worker's own share of the range: the shares are
      // disjoint, so a data connection can only reach the worker that announced the port.
      const pasv = daemon.records.filter((r) => r.event === 'pasv-listen');
      expect(pasv).toHaveLength(SESSIONS * 3);
      const byWorker = new Map<number, Set<number>>();
      for (const r of pasv) {
        const worker = r.worker as number;
        const share = splitPortRange(site.pasvRange!, 2, worker - 1);
        expect(r.port).toBeGreaterThanOrEqual(share.min);
        expect(r.port).toBeLessThanOrEqual(share.max);
        if (!byWorker.has(worker)) byWorker.set(worker, new Set());
        byWorker.get(worker)!.add(r.port as number);
      }
      expect([...byWorker.keys()].sort()).toEqual([1, 2]);
      const [one, two] = [byWorker.get(1)!, byWorker.get(2)!];
      expect([...one].filter((p) => two.has(p))).toEqual([]);
      expect(createHash('sha256').update(site.data).digest('hex')).toBe(site.sha256);
    } finally {
      expect(await daemon.stop()).toBe(0);
    }
    // The primary waited for both workers to drain.
    expect(daemon.records.filter((r) => r.event === 'worker-stopped').map((r) => r.worker)).toEqual(expect.arrayContaining([1, 2]));
  }, 90_000);
});
