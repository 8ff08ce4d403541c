import { SimpleProducer, type Producer } from '@gorgon/core';
import { MaildropError, type Maildrop, type MaildropMessage, type MaildropStore } from './maildrop.js';
import { wireSize } from './wire-size.js';

interface StoredMessage {
  uid: string;
  data: Buffer;
  size: number;
}

/**
 * Maildrops held in memory, for tests and for embedders whose mail lives elsewhere. The lock
 * is per store instance; uids are `m1`, `m2`, … per user, never reused.
 */
export class MemoryMaildropStore implements MaildropStore {
  readonly #boxes = new Map<string, { next: number; messages: StoredMessage[] }>();
  readonly #locked = new Set<string>();

  /** Adds a message to the end of `user`'s maildrop; returns its uid. */
  deliver(user: string, message: Buffer | string): string {
    const box = this.#box(user);
    const data = Buffer.from(message);
    const uid = `m${box.next++}`;
    box.messages.push({ uid, data, size: wireSize(data) });
    return uid;
  }

  /** The raw bytes of every message `user` has now, in order (for assertions). */
  contents(user: string): Buffer[] {
    return (this.#boxes.get(user)?.messages ?? []).map((m) => m.data);
  }

  /** True while a session holds `user`'s lock. */
  isLocked(user: string): boolean {
    return this.#locked.has(user);
  }

  async open(user: string): Promise<Maildrop> {
    if (this.#locked.has(user)) throw new MaildropError('in-use', `maildrop of ${user} is locked`);
    this.#locked.add(user);
    const box = this.#box(user);
    const snapshot = [...box.messages];
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#locked.delete(user);
    };
    const messages: MaildropMessage[] = snapshot.map(({ uid, size }) => ({ uid, size }));
    const data = (index: number): Buffer => {
      const message = snapshot[index];
      if (!message || !box.messages.includes(message)) throw new MaildropError('gone', `message ${index + 1} is gone`);
      return message.data;
    };
    return {
      messages,
      read: async (index: number): Promise<Producer> => new SimpleProducer(data(index)),
      readNow: data,
      commit: async (deleted: ReadonlySet<number>) => {
        if (released) throw new MaildropError('io', 'maildrop already released');
        const doomed = new Set([...deleted].map((i) => snapshot[i]).filter((m): m is StoredMessage => m !== undefined));
        box.messages = box.messages.filter((m) => !doomed.has(m));
        release();
        return { failed: 0 };
      },
      release: async () => release(),
    };
  }

  #box(user: string): { next: number; messages: StoredMessage[] } {
    let box = this.#boxes.get(user);
    if (!box) {
      box = { next: 1, messages: [] };
      this.#boxes.set(user, box);
    }
    return box;
  }
}
