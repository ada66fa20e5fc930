// A bounded cache for pure string functions run on every command (client keys,
// domain normalization): the same few values repeat for thousands of messages. When
// it is full it starts over, so a flood of distinct values costs memory only up to
// `max` entries.

export function memoize<T>(fn: (input: string) => T, max = 4096): (input: string) => T {
  const cache = new Map<string, T>();
  return (input) => {
    const hit = cache.get(input);
    if (hit !== undefined || cache.has(input)) return hit as T;
    if (cache.size >= max) cache.clear();
    const value = fn(input);
    cache.set(input, value);
    return value;
  };
}
