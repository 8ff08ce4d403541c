import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leakGuard } from '@gorgon/core/testing';
import { testServer } from './helpers.js';
import { controlClient, login } from './socket-client.js';

// Activity is complete commands (and moving transfers): bytes trickled without a line end,
// one every few seconds, must not hold a control connection open (the slowloris pattern).

let guard: ReturnType<typeof leakGuard>;
beforeEach(() => {
  guard = leakGuard();
});
afterEach(async () => {
  await guard.check(2000);
});

/** Runs `send` every 40 ms until the returned function is called. */
function every(send: () => void): () => void {
  const timer = setInterval(send, 40);
  return () => clearInterval(timer);
}

describe('FTP: a trickled partial command is not activity', () => {
  it('before login, with the login deadline out of the way: the idle timeout closes it', async () => {
    await using server = testServer({ limits: { idleTimeoutMs: 200, loginTimeoutMs: 60_000 } });
    const c = await controlClient((await server.listen(0)).port);
    expect(await c.line()).toMatch(/^220 /);
    const stop = every(() => void (c.socket.destroyed || c.socket.write('U')));
    try {
      expect(await c.line(3000)).toBe('421 Timeout (0 s): closing control connection.');
    } finally {
      stop();
    }
    await c.closed();
  });

  it('after login: the idle timeout closes it', async () => {
    await using server = testServer({ limits: { idleTimeoutMs: 200 } });
    const c = await controlClient((await server.listen(0)).port);
    await login(c);
    const stop = every(() => void (c.socket.destroyed || c.socket.write('N')));
    try {
      expect(await c.line(3000)).toBe('421 Timeout (0 s): closing control connection.');
    } finally {
      stop();
    }
    await c.closed();
  });
});
