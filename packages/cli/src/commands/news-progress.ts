import cliProgress from 'cli-progress';
import type { PullEvent } from '@gorgon/nntp';

/** Shows a pull's events: one bar per group on a terminal, one line per group otherwise. */
export interface PullView {
  event(event: PullEvent): void;
  stop(): void;
}

/** Lines for logs and pipes: a group's range when it starts, its count when done, failures. */
export function pullLineView(out: NodeJS.WritableStream, explain: boolean): PullView {
  return {
    event(e) {
      switch (e.type) {
        case 'group':
          out.write(`group  ${e.server} ${e.group}: ${e.count === 0 ? 'nothing new' : `${e.count} new (${e.first}-${e.last})`}\n`);
          break;
        case 'group-done':
          out.write(`done   ${e.server} ${e.group}: ${e.fetched} stored, high-water ${e.high}\n`);
          break;
        case 'article':
          if (explain && e.verdict) out.write(`${e.kept ? 'keep' : 'kill'}   ${e.group}:${e.number} ${e.verdict.reason}\n`);
          break;
        case 'missing':
          break;
        case 'failed':
          out.write(`failed ${e.message}\n`);
          break;
      }
    },
    stop() {},
  };
}

/** cli-progress bars: one per group being pulled, finished groups logged above them. */
export function pullBarView(out: NodeJS.WritableStream, forced: boolean): PullView {
  const multi = new cliProgress.MultiBar(
    {
      stream: out,
      noTTYOutput: forced,
      notTTYSchedule: 500,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      format: '{name} {bar} {value}/{total}',
    },
    cliProgress.Presets.shades_classic,
  );
  const terminal = (out as { isTTY?: boolean }).isTTY === true;
  const log = (line: string): void => (terminal ? multi.log(line) : void out.write(line));
  const bars = new Map<string, cliProgress.SingleBar>();
  const label = (text: string): string => (text.length > 32 ? `…${text.slice(-31)}` : text.padEnd(32));
  return {
    event(e) {
      const key = 'group' in e && e.group !== undefined ? `${e.server} ${e.group}` : e.server;
      switch (e.type) {
        case 'group':
          if (e.count > 0) bars.set(key, multi.create(e.count, 0, { name: label(`${e.group}@${e.server}`) }));
          break;
        case 'article':
        case 'missing':
          bars.get(key)?.increment();
          break;
        case 'group-done': {
          const bar = bars.get(key);
          if (bar) multi.remove(bar);
          bars.delete(key);
          log(`done   ${e.server} ${e.group}: ${e.fetched} stored\n`);
          break;
        }
        case 'failed':
          log(`failed ${e.message}\n`);
          break;
      }
    },
    stop() {
      multi.stop();
    },
  };
}
