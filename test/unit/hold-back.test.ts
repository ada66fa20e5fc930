// The hold-back and its budget: a message whose head fits gets the whole-message
// headers; one that does not, or that finds the budget spent, streams on without
// them and loses no byte; every byte taken from the budget is given back.
import { describe, expect, it } from 'vitest';
import { HoldBack, HoldBudget } from '../../proxy/stages/hold-back.ts';
import { runStages } from '../../proxy/stages/stage.ts';

const head = (complete: boolean) => (complete ? 'X-Score: 1\r\n' : 'X-Early: 1\r\n');

function feed(h: HoldBack, chunks: string[], end = true): string {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(...runStages([h], Buffer.from(c)));
  if (end) out.push(...runStages([h], null));
  return Buffer.concat(out).toString();
}

describe('HoldBack', () => {
  it('puts the complete headers on a message within the limit, the early ones on a longer one', () => {
    expect(feed(new HoldBack(10, head), ['abc', 'def'])).toBe('X-Score: 1\r\nabcdef');
    expect(feed(new HoldBack(4, head), ['abc', 'def', 'gh'])).toBe('X-Early: 1\r\nabcdefgh');
  });

  it('streams a message on early once the budget shared by all transactions is spent, and gives it back', () => {
    const budget = new HoldBudget(8);
    const a = new HoldBack(100, head, budget);
    const b = new HoldBack(100, head, budget);
    expect(feed(a, ['123456'], false)).toBe('');
    expect(budget.used).toBe(6);
    // b finds only 2 bytes left: its head goes out at once, without the late headers
    expect(feed(b, ['abc', 'def'])).toBe('X-Early: 1\r\nabcdef');
    expect(budget).toMatchObject({ used: 6, overflows: 1 });
    expect(feed(a, ['78'])).toBe('X-Score: 1\r\n12345678');
    expect(budget.used).toBe(0);
  });

  it('gives back what an abandoned transaction held (the client hung up mid-DATA)', () => {
    const budget = new HoldBudget(100);
    const h = new HoldBack(100, head, budget);
    feed(h, ['a'.repeat(40)], false);
    expect(budget.used).toBe(40);
    h.dispose();
    h.dispose();
    expect(budget.used).toBe(0);
  });
});
