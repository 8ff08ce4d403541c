import { describe, expect, it } from 'vitest';
import { Registry } from '@gorgon/core';

describe('Registry: a set for members that come and go', () => {
  it('adds, finds and removes like a Set, in any order', () => {
    const registry = new Registry<{ n: number }>();
    const members = Array.from({ length: 10 }, (_, n) => ({ n }));
    const reference = new Set<{ n: number }>();
    // A fixed shuffle of adds and deletes, checked against a Set after every step.
    const steps = [0, 1, 2, 3, -1, 4, 5, -3, -0, 6, 7, -5, 8, 9, -9, -2, 0, -4, -6, -7, -8, -0, 3];
    for (const step of steps) {
      const member = members[Math.abs(step)]!;
      if (step < 0 || Object.is(step, -0)) {
        expect(registry.delete(member)).toBe(reference.delete(member));
      } else {
        registry.add(member);
        reference.add(member);
      }
      expect(registry.size).toBe(reference.size);
      expect(new Set(registry)).toEqual(reference);
      for (const m of members) expect(registry.has(m)).toBe(reference.has(m));
    }
    expect(registry.delete({ n: 99 })).toBe(false);
    registry.add(members[3]!); // already a member: nothing changes
    expect(registry.size).toBe(1);
    registry.clear();
    expect(registry.size).toBe(0);
    expect(registry.has(members[3]!)).toBe(false);
    registry.add(members[3]!);
    expect([...registry.values()]).toEqual([members[3]]);
  });

  it('iterates over a copy: members may leave while it runs, and each is visited once', () => {
    const registry = new Registry<{ n: number }>();
    const members = Array.from({ length: 6 }, (_, n) => ({ n }));
    for (const m of members) registry.add(m);
    const seen: number[] = [];
    for (const m of registry) {
      seen.push(m.n);
      registry.delete(m);
      if (m.n === 0) registry.delete(members[5]!); // another one leaves too
    }
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(registry.size).toBe(0);
    const visits: number[] = [];
    registry.add(members[1]!).add(members[2]!);
    registry.forEach((value, key, set) => {
      expect(key).toBe(value);
      expect(set).toBe(registry);
      visits.push(value.n);
    });
    expect(visits).toEqual([1, 2]);
    expect([...registry.entries()]).toEqual([
      [members[1], members[1]],
      [members[2], members[2]],
    ]);
  });

  it('refuses an object that is in another registry', () => {
    const a = new Registry<object>();
    const b = new Registry<object>();
    const member = {};
    a.add(member);
    expect(() => b.add(member)).toThrow(/already in another Registry/);
    expect(b.has(member)).toBe(false);
    expect(b.delete(member)).toBe(false);
    a.delete(member);
    b.add(member);
    expect(b.has(member)).toBe(true);
  });
});
