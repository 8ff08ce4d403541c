import { describe, expect, it } from 'vitest';
import { CommandTable, LineSession, splitCommand, type Channel, type CommandSpec, type GateRefusal } from '@gorgon/core';
import { transcript } from '@gorgon/core/testing';

type State = 'authorization' | 'transaction';

/** A POP3-shaped session whose commands all go through one table and one gate. */
class Mini extends LineSession {
  state: State = 'authorization';
  user = '';
  constructor(channel: Channel) {
    super(channel);
    this.push('+OK ready\r\n');
  }
  protected override onLine(line: string): void | Promise<void> {
    return table.dispatch(this, this.state, line, (refusal) => this.push(`-ERR ${describeRefusal(refusal)}\r\n`));
  }
}

function describeRefusal(refusal: GateRefusal): string {
  switch (refusal.kind) {
    case 'unknown':
      return `unknown command ${refusal.verb}`;
    case 'wrong-state':
      return `${refusal.spec.verb} not valid now`;
    case 'syntax':
      return `${refusal.spec.verb}: ${refusal.reason}`;
    case 'login-required':
      return `${refusal.spec.verb}: log in first`;
    case 'permission':
      return `${refusal.spec.verb}: no ${refusal.spec.permission ?? ''} permission`;
  }
}

const specs: Array<CommandSpec<State, Mini>> = [
  {
    verb: 'USER',
    args: 'required',
    states: ['authorization'],
    help: 'USER name',
    capability: 'USER',
    run: (s, arg) => {
      s.user = arg;
      s.state = 'transaction';
      s.push(`+OK welcome ${arg}\r\n`);
    },
  },
  { verb: 'STAT', args: 'none', states: ['transaction'], help: 'STAT', run: (s) => s.push('+OK 0 0\r\n') },
  {
    verb: 'LIST',
    args: 'optional',
    states: ['transaction'],
    help: 'LIST [msg]',
    run: async (s, arg) => {
      await Promise.resolve();
      s.push(arg ? `+OK ${arg} 0\r\n` : '+OK list follows\r\n.\r\n');
    },
  },
  { verb: 'capa', args: 'none', states: ['authorization', 'transaction'], help: 'CAPA', capability: 'TOP', run: (s) => s.push('+OK\r\n') },
  { verb: 'TOP', args: 'required', states: ['transaction'], help: 'TOP msg n', capability: 'TOP', run: (s) => s.push('+OK\r\n') },
];
const table = new CommandTable<State, Mini>(specs);

describe('CommandTable', () => {
  it('splits a command line at its first space, upper-casing only the verb', () => {
    expect(splitCommand('user Alice Liddell')).toEqual({ verb: 'USER', arg: 'Alice Liddell' });
    expect(splitCommand('noop')).toEqual({ verb: 'NOOP', arg: '' });
    expect(splitCommand('LIST ')).toEqual({ verb: 'LIST', arg: '' });
  });

  it('looks verbs up case-insensitively and lists capabilities per state, once each', () => {
    expect(table.get('capa')?.help).toBe('CAPA');
    expect(table.get('Stat')?.verb).toBe('STAT');
    expect(table.get('NOPE')).toBeUndefined();
    expect(table.specs.map((s) => s.verb)).toEqual(['USER', 'STAT', 'LIST', 'capa', 'TOP']);
    expect(table.capabilities()).toEqual(['USER', 'TOP']);
    expect(table.capabilities('authorization')).toEqual(['USER', 'TOP']);
    expect(table.capabilities('transaction')).toEqual(['TOP']);
  });

  it('the gate refuses unknown verbs, wrong states, missing and unexpected arguments before any handler', async () => {
    await transcript(
      (ch) => new Mini(ch),
      `
      S: +OK ready
      C: FROB
      S: -ERR unknown command FROB
      C: STAT
      S: -ERR STAT not valid now
      C: USER
      S: -ERR USER: missing-argument
      C: user alice
      S: +OK welcome alice
      C: USER bob
      S: -ERR USER not valid now
      C: STAT now
      S: -ERR STAT: unexpected-argument
      C: stat
      S: +OK 0 0
      C: LIST
      S: +OK list follows
      S: .
      C: LIST 2
      S: +OK 2 0
      C: CAPA
      S: +OK
      C:
      S: /^-ERR unknown command $/
      `,
    );
  });

  it('returns the handler result, so an async handler holds back later input', async () => {
    const refusals: GateRefusal[] = [];
    const session = { user: '', state: 'transaction', push: () => undefined } as unknown as Mini;
    const result = table.dispatch(session, 'transaction', 'LIST', (r) => refusals.push(r));
    expect(result).toBeInstanceOf(Promise);
    await result;
    expect(table.dispatch(session, 'transaction', 'STAT', (r) => refusals.push(r))).toBeUndefined();
    expect(refusals).toEqual([]);
  });

  it('gates on login and permission (FTP-style rows without states), and blanks as an argument when asked', () => {
    type Ftpish = { loggedIn: boolean; perms: Set<string>; ran: string[] };
    const rows: Array<CommandSpec<'any', Ftpish>> = [
      { verb: 'NOOP', args: 'none', help: 'NOOP', run: (s) => void s.ran.push('NOOP') },
      { verb: 'DELE', args: 'required', login: true, permission: 'delete', help: 'DELE path', run: (s, a) => void s.ran.push(`DELE ${a}`) },
    ];
    const gate = { loggedIn: (s: Ftpish) => s.loggedIn, permitted: (s: Ftpish, p: string) => s.perms.has(p) };
    const strict = new CommandTable<'any', Ftpish>(rows, gate);
    const lenient = new CommandTable<'any', Ftpish>(rows, { ...gate, blankIsArgument: true });
    const s: Ftpish = { loggedIn: false, perms: new Set(), ran: [] };
    const kinds: string[] = [];
    const refuse = (r: GateRefusal): void => void kinds.push(r.kind);
    strict.dispatch(s, 'any', 'DELE x', refuse);
    s.loggedIn = true;
    strict.dispatch(s, 'any', 'DELE x', refuse);
    s.perms.add('delete');
    strict.dispatch(s, 'any', 'DELE  ', refuse);
    lenient.dispatch(s, 'any', 'DELE  ', refuse);
    strict.dispatch(s, 'any', 'noop', refuse);
    expect(kinds).toEqual(['login-required', 'permission', 'syntax']);
    expect(s.ran).toEqual(['DELE  ', 'NOOP']);
  });

  it('tells its observer each command that passed the gate, and later rows replace earlier ones in place', () => {
    const seen: string[] = [];
    const replaced = new CommandTable<State, Mini>([
      ...specs,
      { verb: 'STAT', args: 'optional', states: ['transaction'], help: 'STAT [x]', run: () => undefined },
    ]);
    replaced.observe((_s, verb, state) => seen.push(`${verb}@${state}`));
    expect(replaced.specs.map((x) => x.verb)).toEqual(['USER', 'STAT', 'LIST', 'capa', 'TOP']);
    const session = { push: () => undefined } as unknown as Mini;
    replaced.dispatch(session, 'transaction', 'STAT x', () => seen.push('refused'));
    replaced.dispatch(session, 'transaction', 'USER x', () => seen.push('refused'));
    expect(seen).toEqual(['STAT@transaction', 'refused']);
  });

  it('a capability may depend on the session (STLS only before TLS)', () => {
    type S = { secure: boolean };
    const t = new CommandTable<'a', S>([
      { verb: 'STLS', args: 'none', help: 'STLS', capability: (s) => (s.secure ? undefined : 'STLS'), run: () => undefined },
      { verb: 'TOP', args: 'required', help: 'TOP', capability: 'TOP', run: () => undefined },
    ]);
    expect(t.capabilities(undefined, { secure: false })).toEqual(['STLS', 'TOP']);
    expect(t.capabilities(undefined, { secure: true })).toEqual(['TOP']);
    expect(t.capabilities()).toEqual(['TOP']);
  });
});
