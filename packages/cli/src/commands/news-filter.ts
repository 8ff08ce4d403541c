import { mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { judge } from '@gorgon/nntp';
import { CliError, messageOf } from '../errors.js';
import { loadRules } from './news-pull.js';
import type { GlobalArgs } from './options.js';

interface FilterArgs extends GlobalArgs {
  sources: string[];
  rules: string;
  explain: boolean;
  apply: boolean;
}

/** Splits an mboxrd into messages (the `From ` line removed, `>From ` unquoted once). @see RFC 4155 */
export function splitMbox(text: string): string[] {
  const parts = text.split(/^From [^\n]*\n/m).slice(1);
  return parts.map((p) => p.replace(/\n$/, '').replace(/^>(>*From )/gm, '$1'));
}

/**
 * `gorgon news filter --rules FILE SOURCE...`: judges pulled articles (a Maildir's `new/` and
 * `cur/`, an mbox, or article files) by kill/keep/score rules; `--explain` names the rule that
 * decided each; `--apply` moves killed Maildir messages to `.Killed/` and rewrites an mbox with
 * the kept ones only (atomically).
 */
export const newsFilterCommand: CommandModule<GlobalArgs, FilterArgs> = {
  command: 'filter <sources..>',
  describe: 'apply kill/keep/score rules to pulled articles (Maildir, mbox or files)',
  builder: (yargs: Argv<GlobalArgs>) =>
    yargs
      .positional('sources', { type: 'string', array: true, demandOption: true, describe: 'a Maildir, an mbox file, or article files' })
      .option('rules', {
        alias: 'r',
        type: 'string',
        demandOption: true,
        describe: 'rules file (kill|keep|score [N] Header: wildmat or /regex/)',
      })
      .option('explain', { type: 'boolean', default: false, describe: 'say which rule decided each article' })
      .option('apply', {
        type: 'boolean',
        default: false,
        describe: 'act: killed Maildir messages go to .Killed/, an mbox keeps only the kept',
      })
      .example('$0 news filter --rules score.rules ~/News --explain', 'what the rules would do, and why'),
  handler: async (args: ArgumentsCamelCase<FilterArgs>) => {
    const rules = await loadRules(args.rules);
    let kept = 0;
    let killed = 0;
    const report = (name: string, keep: boolean, reason: string): void => {
      if (keep) kept++;
      else killed++;
      process.stdout.write(`${keep ? 'keep' : 'kill'} ${name}${args.explain ? `: ${reason}` : ''}\n`);
    };
    for (const source of args.sources) {
      let info;
      try {
        info = await stat(source);
      } catch (err) {
        throw new CliError(`cannot read ${source}: ${messageOf(err)}.`);
      }
      if (info.isDirectory()) {
        for (const sub of ['new', 'cur']) {
          const dir = join(source, sub);
          const names = await readdir(dir).catch(() => [] as string[]);
          for (const name of names.sort()) {
            const verdict = judge(rules, await readFile(join(dir, name)));
            report(join(sub, name), verdict.keep, verdict.reason);
            if (!verdict.keep && args.apply) {
              const target = join(source, '.Killed', 'cur');
              await mkdir(target, { recursive: true });
              await Promise.all(['new', 'tmp'].map((d) => mkdir(join(source, '.Killed', d), { recursive: true })));
              await rename(join(dir, name), join(target, name));
            }
          }
        }
        continue;
      }
      const text = await readFile(source, 'latin1');
      if (!text.startsWith('From ')) {
        const verdict = judge(rules, Buffer.from(text, 'latin1'));
        report(basename(source), verdict.keep, verdict.reason);
        continue;
      }
      const messages = splitMbox(text);
      const keepers: string[] = [];
      const blocks = text.split(/^(?=From )/m);
      messages.forEach((message, i) => {
        const verdict = judge(rules, Buffer.from(message, 'latin1'));
        report(`${basename(source)}#${i + 1}`, verdict.keep, verdict.reason);
        if (verdict.keep) keepers.push(blocks[i]!);
      });
      if (args.apply && keepers.length !== messages.length) {
        const tmp = `${source}.tmp${process.pid}`;
        const handle = await open(tmp, 'w', 0o600);
        try {
          await handle.writeFile(Buffer.from(keepers.join(''), 'latin1'));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, source);
      }
    }
    process.stdout.write(`${kept} kept, ${killed} killed${args.apply ? '' : ' (nothing changed; --apply to act)'}.\n`);
  },
};
