// Property tests feed streaming code the same bytes cut in arbitrary places.

/** `data` cut at each of `cuts` (taken modulo its length + 1, in any order, repeats ignored). */
export function cutAt(data: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  return chunks;
}
