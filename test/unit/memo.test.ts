import { describe, expect, it } from 'vitest';
import { memoize } from '../../proxy/policy/memo.ts';

describe('memoize', () => {
  it('computes each input once, a null result included', () => {
    const calls: string[] = [];
    const f = memoize((s: string) => (calls.push(s), s === 'bad' ? null : s.toUpperCase()));
    expect([f('a'), f('a'), f('bad'), f('bad')]).toEqual(['A', 'A', null, null]);
    expect(calls).toEqual(['a', 'bad']);
  });

  it('holds at most max entries: a flood of distinct inputs starts it over', () => {
    const calls: string[] = [];
    const f = memoize((s: string) => (calls.push(s), s), 2);
    for (const s of ['a', 'b', 'c', 'a']) f(s);
    // 'c' found the cache full and cleared it, so 'a' is computed again
    expect(calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
