import type { Channel } from '../channel.js';
import { memoryChannelPair, type MemoryClient } from './memory-client.js';

/** Options of {@link transcript}. */
export interface TranscriptOptions {
  /** Wait per expected server line. Default 2000 ms. */
  timeoutMs?: number;
  /** After the script, expect the server to close the connection. */
  expectClose?: boolean;
}

/**
 * Plays an RFC-style exchange over the in-memory pair and checks every server line exactly.
 * Each script line starts with `C: ` (sent by the client, CRLF added) or `S: ` (expected from
 * the server); a server line given as `S: /regex/` is matched as a regular expression.
 *
 * ```ts
 * await transcript((ch) => new FingerSession(ch, opts), `
 *   C: alice
 *   S: Login: alice    Name: Alice Liddell
 * `);
 * ```
 */
export async function transcript(
  start: (channel: Channel) => unknown,
  script: string,
  options: TranscriptOptions = {},
): Promise<MemoryClient> {
  const { channel, client } = memoryChannelPair();
  start(channel);
  const steps = script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  let n = 0;
  for (const step of steps) {
    n++;
    const kind = step.slice(0, 3);
    const text = step.slice(3);
    if (kind === 'C: ' || step === 'C:') {
      client.sendLine(step === 'C:' ? '' : text);
    } else if (kind === 'S: ' || step === 'S:') {
      const got = await client.line(options.timeoutMs ?? 2000).catch((err: Error) => {
        throw new Error(`transcript step ${n} (${step}): ${err.message}`);
      });
      const want = step === 'S:' ? '' : text;
      const regex = want.length > 1 && want.startsWith('/') && want.endsWith('/') ? new RegExp(want.slice(1, -1)) : undefined;
      if (regex ? !regex.test(got) : got !== want) {
        throw new Error(`transcript step ${n}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
    } else {
      throw new Error(`transcript step ${n}: lines start with "C: " or "S: ", got ${JSON.stringify(step)}`);
    }
  }
  if (options.expectClose) await client.closed(options.timeoutMs ?? 2000);
  return client;
}
