import { describe, expect, it } from 'vitest';
import {
  createCounters,
  errorText,
  logsDebug,
  memoryLogger,
  printable,
  silentLogger,
  type Logger,
  type MemoryLogRecord,
} from '@gorgon/core';

describe('logging helpers', () => {
  it('memoryLogger keeps records with the bindings of every child', () => {
    const records: MemoryLogRecord[] = [];
    const root = memoryLogger(records, { listener: 'pop3' });
    const conn = root.child({ conn: 'pop3-1' });
    conn.info({ event: 'accept' }, 'accepted');
    conn.child({ user: 'alice' }).warn('plain text');
    root.error({ event: 'listener-error', code: 'EADDRINUSE' }, 'cannot listen');
    expect(records).toEqual([
      { listener: 'pop3', conn: 'pop3-1', event: 'accept', level: 'info', msg: 'accepted' },
      { listener: 'pop3', conn: 'pop3-1', user: 'alice', level: 'warn', msg: 'plain text' },
      { listener: 'pop3', event: 'listener-error', code: 'EADDRINUSE', level: 'error', msg: 'cannot listen' },
    ]);
  });

  it('silentLogger takes everything and says nothing', () => {
    const child = silentLogger.child({ conn: 'x' });
    expect(child).toBe(silentLogger);
    expect(() => child.error({ a: 1 }, 'dropped')).not.toThrow();
  });

  it('logsDebug asks the logger (pino-style isLevelEnabled), and counts debug as kept when it cannot', () => {
    expect(logsDebug(silentLogger)).toBe(false);
    expect(logsDebug(memoryLogger())).toBe(true);
    const levels: string[] = [];
    const infoOnly: Logger = {
      ...memoryLogger(),
      isLevelEnabled: (level) => {
        levels.push(level);
        return level !== 'debug';
      },
    };
    expect(logsDebug(infoOnly)).toBe(false);
    expect(levels).toEqual(['debug']);
  });

  it('printable truncates and escapes client strings for logs and replies', () => {
    expect(printable('RETR 1')).toBe('RETR 1');
    expect(printable('a\r\nb\0\x7f')).toBe('a\\x0d\\x0ab\\x00\\x7f');
    expect(printable('é☃')).toBe('\\xe9\\u2603');
    expect(printable('x'.repeat(100), 10)).toBe(`${'x'.repeat(10)}...`);
  });

  it('errorText gives the message of anything thrown', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
  });

  it('createCounters starts every counter at zero', () => {
    expect(Object.values(createCounters()).every((v) => v === 0)).toBe(true);
    expect(Object.keys(createCounters()).sort()).toEqual(
      ['active', 'bytesIn', 'bytesOut', 'commands', 'connections', 'errors', 'fdExhausted', 'rejected', 'timeouts'].sort(),
    );
  });
});
