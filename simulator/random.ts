// Seeded randomness for plans and mock backends: never Math.random (STYLE.md
// habit 5). Every consumer derives its own stream from the run seed and a label,
// so adding an actor does not shift the numbers of the others.
import seedrandom from 'seedrandom';

export type Random = () => number;

export function rng(seed: number | string, label = ''): Random {
  const prng = seedrandom(`${seed}:${label}`);
  return () => prng.quick();
}

/** An integer in [min, max], both included. */
export function int(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Exponential with the given mean (Poisson inter-arrival times). */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}
