#!/usr/bin/env node
import { daemonCommands, holdSignals } from './early-signals.js';

// A daemon holds SIGHUP and SIGUSR1 before the rest of the CLI loads (see early-signals.ts).
const argv = process.argv.slice(2);
const command = argv.find((a) => !a.startsWith('-'));
if (command !== undefined && daemonCommands.has(command)) holdSignals();
const { runCli } = await import('./cli.js');
process.exitCode = await runCli(argv);
