/** Where a member sits in its registry's array: a property of the member itself. */
export const kRegistrySlot: unique symbol = Symbol('gorgon.registrySlot');

/** An object a {@link Registry} can hold: it carries its own index there. */
interface Slotted {
  [kRegistrySlot]?: number | undefined;
}

/**
 * A set of objects that come and go all the time (open connections, sessions awaiting their
 * login): an array, each member carrying its index, a removal moving the last member into the
 * gap. `has`, `add` and `delete` cost an array access; iterating goes over a copy, so members
 * may come and go meanwhile.
 *
 * Why not a `Set`: with members added and removed for every connection, a Set's hash table is
 * rebuilt again and again, and V8 keeps each table it has outgrown linked to its successor (for
 * iterators still walking it). A table that lived long enough to be promoted to the old
 * generation then keeps, through every minor GC until the next major one, whatever its
 * successors hold: closed connections, their sockets and buffers. Under a stream of finger
 * requests 2.5 MB survived each scavenge that way instead of 90 KB, and the scavenges cost more
 * than the rest of Gorgon's work per connection (issue 9.3).
 *
 * An object is in at most one registry at a time (`add` throws otherwise).
 */
export class Registry<T extends object> implements ReadonlySet<T> {
  readonly #members: T[] = [];

  /** Members now. */
  get size(): number {
    return this.#members.length;
  }

  has(member: T): boolean {
    const slot = (member as Slotted)[kRegistrySlot];
    return slot !== undefined && this.#members[slot] === member;
  }

  /** Adds `member` (a member already is left where it is). */
  add(member: T): this {
    const slotted = member as T & Slotted;
    const slot = slotted[kRegistrySlot];
    if (slot !== undefined) {
      if (this.#members[slot] === member) return this;
      throw new Error('this object is already in another Registry');
    }
    slotted[kRegistrySlot] = this.#members.length;
    this.#members.push(member);
    return this;
  }

  /** Removes `member`; false when it was not one. */
  delete(member: T): boolean {
    const slotted = member as T & Slotted;
    const slot = slotted[kRegistrySlot];
    const members = this.#members;
    if (slot === undefined || members[slot] !== member) return false;
    const last = members.pop()!;
    if (last !== member) {
      members[slot] = last;
      (last as Slotted)[kRegistrySlot] = slot;
    }
    // Kept as a property (undefined), so members keep their shape.
    slotted[kRegistrySlot] = undefined;
    return true;
  }

  /** Removes every member. */
  clear(): void {
    for (const member of this.#members) (member as Slotted)[kRegistrySlot] = undefined;
    this.#members.length = 0;
  }

  [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  values(): SetIterator<T> {
    return this.#members.slice().values() as SetIterator<T>;
  }

  keys(): SetIterator<T> {
    return this.values();
  }

  entries(): SetIterator<[T, T]> {
    return this.#members.map((member): [T, T] => [member, member]).values() as SetIterator<[T, T]>;
  }

  forEach(fn: (value: T, key: T, set: ReadonlySet<T>) => void, thisArg?: unknown): void {
    for (const member of this.#members.slice()) fn.call(thisArg, member, member, this);
  }
}
