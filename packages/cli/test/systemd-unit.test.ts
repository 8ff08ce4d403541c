import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// docs/gorgon.service (issue 13): systemd accepts it, and it is hardened. systemd-analyze comes
// from Debian's systemd package (scripts/install-clients.sh); under CI its absence fails the test.

const unitPath = fileURLToPath(new URL('../../../docs/gorgon.service', import.meta.url));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const available = hasSystemdAnalyze();
if (!available && process.env.CI) throw new Error('systemd-analyze is missing: run scripts/install-clients.sh (Debian package systemd)');

function analyze(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', args, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
let unit: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gorgon-unit-'));
  unit = await readFile(unitPath, 'utf8');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

/** The unit with its gorgon binary pointed at a wrapper of the built CLI (verify checks ExecStart exists). */
async function localCopy(text: string, name = 'gorgon.service'): Promise<string> {
  const bin = join(dir, 'gorgon');
  await writeFile(bin, `#!/bin/sh\nexec "${process.execPath}" "${main}" "$@"\n`);
  await chmod(bin, 0o755);
  const path = join(dir, name);
  await writeFile(path, text.replaceAll('/usr/local/bin/gorgon', bin));
  return path;
}

/** The values of `key=` lines in the unit. */
function values(key: string): string[] {
  return unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));
}

describe('docs/gorgon.service', () => {
  it('has the hardening and the lifecycle the operations guide describes', () => {
    expect(values('User')).toEqual(['gorgon']);
    expect(values('NoNewPrivileges')).toEqual(['yes']);
    expect(values('ProtectSystem')).toEqual(['strict']);
    expect(values('ReadWritePaths')).toEqual(['/var/lib/gorgon /var/log/gorgon']);
    expect(values('ProtectHome')).toEqual(['yes']);
    expect(values('PrivateTmp')).toEqual(['yes']);
    expect(values('AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(values('CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(values('ExecReload')).toContain('/bin/kill -HUP $MAINPID');
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('LimitNOFILE')).toEqual(['65536']);
    expect(values('ExecStart')[0]).toMatch(/^\/usr\/local\/bin\/gorgon serve --config \/etc\/gorgon\/gorgon\.yaml/);
  });

  it.skipIf(!available)('systemd-analyze verify accepts it without a warning', async () => {
    const { code, stdout, stderr } = await analyze('verify', await localCopy(unit));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it.skipIf(!available)('systemd-analyze verify does report a broken unit (the check can fail)', async () => {
    const broken = unit.replace('NoNewPrivileges=yes', 'NoNewPrivileges=maybe').replace('ProtectHome=yes', 'ProtectHomes=yes');
    const { stderr } = await analyze('verify', await localCopy(broken, 'broken.service'));
    expect(stderr).toMatch(/NoNewPrivileges|boolean/);
    expect(stderr).toMatch(/Unknown key 'ProtectHomes'/);
  });

  it.skipIf(!available)('systemd-analyze security rates its exposure OK or better (below 4.0 of 10)', async () => {
    const { stdout } = await analyze('security', '--offline=yes', await localCopy(unit));
    const level = Number(/Overall exposure level for gorgon\.service: ([\d.]+)/.exec(stdout)?.[1]);
    expect(level).toBeLessThan(4);
  });

  it('the binary it runs answers check-config (the ExecStartPre and ExecReload check)', async () => {
    const config = join(dir, 'gorgon.yaml');
    await writeFile(config, 'finger:\n  port: 0\n  systemUsers: true\n');
    const bin = join(dir, 'gorgon');
    await localCopy(unit);
    const out = execFileSync(bin, ['check-config', '--config', config], { encoding: 'utf8' });
    expect(out).toBe(`config ${config} is valid: finger\n`);
  });
});
