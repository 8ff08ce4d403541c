import cliProgress from 'cli-progress';
import type { FetchEvent, FetchFileInfo } from '@gorgon/ftp';

/** Bytes for people: 1.5 MiB. */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Shows a run's events: progress bars on a terminal, one line per event otherwise. */
export interface ProgressView {
  event(event: FetchEvent): void;
  /** Removes the bars, leaving the lines already printed. */
  stop(): void;
}

/** Where the views write. */
export interface ViewStreams {
  out: NodeJS.WritableStream;
  /** Known file count at the start (URLs without a glob). */
  files: number;
  /** Shorten local paths by this prefix (the output directory). */
  base: string;
  /** Draw bars even when `out` is not a terminal (`--progress bars`). */
  forced?: boolean;
}

function shortName(file: FetchFileInfo, base: string): string {
  return file.localPath.startsWith(base) ? file.localPath.slice(base.length).replace(/^[/\\]/, '') : file.localPath;
}

/**
 * One line per event, for logs and pipes: `get`, `done`, `skip`, `retry`, `failed`, with
 * the file named; no per-chunk progress.
 */
export function lineView({ out, base }: ViewStreams): ProgressView {
  return {
    event(e) {
      switch (e.type) {
        case 'listed':
          out.write(`listed ${e.url}: ${e.files} file${e.files === 1 ? '' : 's'}\n`);
          break;
        case 'start':
          out.write(
            `get    ${e.file.server} ${e.file.remotePath} -> ${shortName(e.file, base)}${e.offset > 0 ? ` (resuming at ${humanBytes(e.offset)})` : ''}\n`,
          );
          break;
        case 'done':
          out.write(
            `done   ${shortName(e.file, base)} (${humanBytes(e.bytes)}${e.resumedFrom > 0 ? `, resumed at ${humanBytes(e.resumedFrom)}` : ''})\n`,
          );
          break;
        case 'skipped':
          out.write(`skip   ${shortName(e.file, base)} (already complete)\n`);
          break;
        case 'retry':
          out.write(`retry  ${e.attempt}: ${e.message}\n`);
          break;
        case 'failed':
          out.write(`failed ${e.file ? shortName(e.file, base) : e.url}: ${e.message}\n`);
          break;
        case 'progress':
          break;
      }
    },
    stop() {},
  };
}

/**
 * A cli-progress MultiBar: one bar per file in flight and a total bar of files, with the bytes
 * received so far; finished files are logged above the bars.
 */
export function barView({ out, files, base, forced = false }: ViewStreams): ProgressView {
  const multi = new cliProgress.MultiBar(
    {
      stream: out,
      // cli-progress draws nothing on a non-terminal unless told to: honour --progress bars.
      noTTYOutput: forced,
      notTTYSchedule: 500,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      format: '{name} {bar} {percentage}% {amount}',
      formatValue: (v, _o, type) => (type === 'percentage' ? String(v).padStart(3) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  // On a terminal the MultiBar prints lines above the bars; elsewhere (forced bars) it drops them.
  const terminal = (out as { isTTY?: boolean }).isTTY === true;
  const log = (line: string): void => {
    if (terminal) multi.log(line);
    else out.write(line);
  };
  let known = files;
  let finished = 0;
  let bytes = 0;
  const total = multi.create(Math.max(known, 1), 0, { name: 'total'.padEnd(28), amount: '' });
  const bars = new Map<number, { bar: cliProgress.SingleBar; last: number }>();
  const label = (text: string): string => (text.length > 28 ? `…${text.slice(-27)}` : text.padEnd(28));
  const updateTotal = (): void => {
    total.setTotal(Math.max(known, 1));
    total.update(finished, { amount: `${finished}/${known} files, ${humanBytes(bytes)}` });
  };
  const finish = (id: number, line: string): void => {
    const entry = bars.get(id);
    if (entry) multi.remove(entry.bar);
    bars.delete(id);
    finished++;
    log(`${line}\n`);
    updateTotal();
  };
  updateTotal();
  return {
    event(e) {
      switch (e.type) {
        case 'listed':
          known += e.files;
          updateTotal();
          break;
        case 'start': {
          // A retry starts the file again: its old bar goes.
          const old = bars.get(e.file.id);
          if (old) multi.remove(old.bar);
          const size = e.size ?? 0;
          const bar = multi.create(Math.max(size, 1), Math.min(e.offset, Math.max(size, 1)), {
            name: label(shortName(e.file, base)),
            amount: humanBytes(e.offset),
          });
          bars.set(e.file.id, { bar, last: e.offset });
          break;
        }
        case 'progress': {
          const entry = bars.get(e.file.id);
          if (!entry) break;
          bytes += e.received - entry.last;
          entry.last = e.received;
          entry.bar.update(e.size === undefined ? 0 : e.received, {
            amount: `${humanBytes(e.received)}${e.size === undefined ? '' : ` of ${humanBytes(e.size)}`}`,
          });
          updateTotal();
          break;
        }
        case 'done': {
          const entry = bars.get(e.file.id);
          bytes += Math.max(0, e.resumedFrom + e.bytes - (entry?.last ?? e.resumedFrom));
          finish(e.file.id, `done   ${shortName(e.file, base)} (${humanBytes(e.bytes)})`);
          break;
        }
        case 'skipped':
          finish(e.file.id, `skip   ${shortName(e.file, base)} (already complete)`);
          break;
        case 'retry':
          log(`retry  ${e.attempt}: ${e.message}\n`);
          break;
        case 'failed':
          if (e.file) finish(e.file.id, `failed ${shortName(e.file, base)}: ${e.message}`);
          else log(`failed ${e.url}: ${e.message}\n`);
          break;
      }
    },
    stop() {
      multi.stop();
    },
  };
}
