#!/usr/bin/env node
// What the admin listener's metrics cost per command: one POP3 server (the built packages), one
// logged-in client in a child process pipelining STAT, rounds alternating with the metrics
// attached (the server's commandDone/login/… events watched, as `--admin-port` does) and
// detached (no listener: the events are not even built). Prints server CPU µs per command and
// commands/s for both, and the median of the per-pair ratios.
//   flock /tmp/gorgon-bench.lock node bench/tools/metrics-overhead.mjs [rounds=9] [commands=50000]
import { fork } from 'node:child_process';
import { connect } from 'node:net';

const ROUNDS = Number(process.argv[2] ?? 9);
const COMMANDS = Number(process.argv[3] ?? 50_000);

if (process.argv[2] === 'client') {
  const socket = connect(Number(process.argv[3]), '127.0.0.1');
  socket.setNoDelay(true);
  let buffered = '';
  let waiting;
  socket.on('data', (d) => {
    buffered += d.toString('latin1');
    waiting?.();
  });
  const lines = async (n) => {
    for (;;) {
      let count = 0;
      for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n', i + 1)) count++;
      if (count >= n) {
        let cut = 0;
        for (let k = 0; k < n; k++) cut = buffered.indexOf('\n', cut) + 1;
        buffered = buffered.slice(cut);
        return;
      }
      await new Promise((r) => (waiting = r));
    }
  };
  await lines(1);
  socket.write('USER bench\r\nPASS bench\r\n');
  await lines(2);
  process.on('message', async (n) => {
    const batch = 'STAT\r\n'.repeat(n);
    const start = process.hrtime.bigint();
    socket.write(batch);
    // Count reply lines without re-scanning: STAT replies are one line each.
    let seen = 0;
    await new Promise((resolve) => {
      const check = () => {
        const i = buffered.lastIndexOf('\n');
        if (i === -1) return;
        for (let j = buffered.indexOf('\n'); j !== -1 && j <= i; j = buffered.indexOf('\n', j + 1)) seen++;
        buffered = buffered.slice(i + 1);
        if (seen >= n) resolve();
      };
      waiting = check;
      check();
    });
    process.send(Number(process.hrtime.bigint() - start) / 1e9);
  });
} else {
  const { MemoryAuthenticator } = await import('../../packages/core/dist/index.js');
  const { createPop3Server, MemoryMaildropStore } = await import('../../packages/pop3/dist/index.js');
  const { attachMetrics } = await import('../../packages/cli/dist/admin/metrics.js');
  const { Suite } = await import('../../packages/cli/dist/suite.js');
  const store = new MemoryMaildropStore();
  const server = createPop3Server({
    store,
    auth: new MemoryAuthenticator([{ name: 'bench', password: 'bench' }]),
  });
  const { port } = await server.listen(0);
  const suite = new Suite();
  suite.add({ name: 'pop3d', protocol: 'pop3', address: `127.0.0.1:${port}`, server });
  const client = fork(new URL(import.meta.url).pathname, ['client', String(port)]);
  const round = (n) =>
    new Promise((resolve) => {
      const cpu = process.cpuUsage();
      client.once('message', (seconds) => {
        const used = process.cpuUsage(cpu);
        resolve({ seconds, cpuUs: (used.user + used.system) / n });
      });
      client.send(n);
    });
  await round(5000); // warm-up, both paths
  let detach = attachMetrics(suite);
  await round(5000);
  detach();
  const off = [];
  const on = [];
  for (let r = 0; r < ROUNDS; r++) {
    // ABBA: which side goes first alternates, so drift hits both.
    const order = r % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
    const pair = {};
    for (const side of order) {
      if (side === 'on') detach = attachMetrics(suite);
      pair[side] = await round(COMMANDS);
      if (side === 'on') detach();
    }
    off.push(pair.off);
    on.push(pair.on);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const cps = (x) => COMMANDS / x.seconds;
  console.log(`POP3 STAT pipelined, ${COMMANDS} commands per round, ${ROUNDS} pairs`);
  console.log(
    `metrics off: ${median(off.map(cps)).toFixed(0)} commands/s, server CPU ${median(off.map((x) => x.cpuUs)).toFixed(2)} µs/command`,
  );
  console.log(
    `metrics on:  ${median(on.map(cps)).toFixed(0)} commands/s, server CPU ${median(on.map((x) => x.cpuUs)).toFixed(2)} µs/command`,
  );
  console.log(
    `ratio on/off: throughput ${median(on.map((x, i) => cps(x) / cps(off[i]))).toFixed(3)}, CPU ${median(on.map((x, i) => x.cpuUs / off[i].cpuUs)).toFixed(3)}`,
  );
  client.kill();
  await server.close({ timeoutMs: 200 });
}
