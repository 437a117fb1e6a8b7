/**
 * Distances between empirical distributions (pure numbers; used by the weight-dynamics and
 * loss-stability probes).
 */

/**
 * The 1-Wasserstein distance between the empirical distributions of the samples a and b:
 * W1 = ∫ |F_a(t) − F_b(t)| dt over the real line (F the empirical CDFs). For equal sizes it is
 * the mean |a₍ᵢ₎ − b₍ᵢ₎| of the sorted samples (the optimal coupling in one dimension is monotone).
 * Needs both samples non-empty; NaN when either holds a NaN.
 */
export function wasserstein1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 || b.length === 0) throw new RangeError("wasserstein1: empty sample");
  const sa = Float64Array.from(a).sort();
  const sb = Float64Array.from(b).sort();
  if (sa.some(Number.isNaN) || sb.some(Number.isNaN)) return NaN;
  if (sa.length === sb.length) {
    let s = 0;
    for (let i = 0; i < sa.length; i++) s += Math.abs(sa[i] - sb[i]);
    return s / sa.length;
  }
  // Sweep the merged sample points, integrating |F_a − F_b| between consecutive points.
  let i = 0;
  let j = 0;
  let total = 0;
  let prev = Math.min(sa[0], sb[0]);
  while (i < sa.length || j < sb.length) {
    const t = j >= sb.length || (i < sa.length && sa[i] <= sb[j]) ? sa[i] : sb[j];
    total += Math.abs(i / sa.length - j / sb.length) * (t - prev);
    while (i < sa.length && sa[i] === t) i++;
    while (j < sb.length && sb[j] === t) j++;
    prev = t;
  }
  return total;
}
