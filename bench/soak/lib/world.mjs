// What the soak's drivers share: the seed's random numbers, where things are, what is in
// flight per protocol (so a kill can be aimed at a transfer), the ledger's counts, and the
// violations the checkers find.
import { prng } from './content.mjs';

export class World {
  constructor({ seed, dir, ports, resetProbability }) {
    this.seed = seed;
    this.random = prng(seed);
    this.dir = dir;
    this.ports = ports;
    this.resetProbability = resetProbability;
    this.stopping = false;
    /** Operations under way whose outcome a kill would make unknown, by protocol. */
    this.inflight = { ftp: 0, pop3: 0, nntp: 0 };
    /** Counts by operation kind: attempted, acknowledged, refused, unknown, reset. */
    this.ops = {};
    this.violations = [];
    this.kills = 0;
  }

  /** Counts one outcome of an operation kind. */
  count(kind, outcome, n = 1) {
    this.ops[kind] ??= { attempted: 0, acknowledged: 0, refused: 0, unknown: 0, reset: 0 };
    this.ops[kind][outcome] += n;
  }

  violation(kind, detail) {
    // Keep the report readable: the first 200 in full, then only the count grows.
    if (this.violations.length < 200) this.violations.push({ kind, detail, atKill: this.kills });
    else this.violations.push({ kind });
  }

  pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  chance(p) {
    return this.random() < p;
  }

  between(lo, hi) {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mutual exclusion lock (the checker holds it while deliveries wait, and the reverse). */
export class Mutex {
  #tail = Promise.resolve();
  async run(fn) {
    const before = this.#tail;
    let release;
    this.#tail = new Promise((r) => {
      release = r;
    });
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
