/**
 * Host-side cost of Lanczos per iteration, without the device: the operator is diagonal (O(n) per
 * product, timed and subtracted) with a Hessian-like spectrum (a few outliers above a bulk near 0)
 * and float32 rounding of its input and output, as a float32 HVP has, at the size of the bench MLP
 * (n = 269 322). Prints, for full and partial reorthogonalization, λmax and top-5 to 1e-6: products,
 * full-reorthogonalization steps, and ms of host work per iteration, wall and CPU (median over `reps` runs after one warm-up run).
 * Usage: node --import tsx bench/lanczosHost.ts [n] [reps]
 */
import { Key } from "../src/core/keys.js";
import { lanczos, type LinearOperator } from "../src/curvature/index.js";

const n = Number(process.argv[2] ?? 269322);
const reps = Number(process.argv[3] ?? 3);
const rng = Key.fromSeed(0).rng();
const d = new Float64Array(n);
const outliers = [0.345, 0.335, 0.32, 0.3, 0.28, 0.26, 0.24, 0.22, 0.2, 0.18];
for (let i = 0; i < n; i++) d[i] = i < outliers.length ? outliers[i] : 0.02 * rng.normal() * rng.uniform() ** 4;

let opMs = 0;
let opCpuMs = 0;
/** CPU time of this thread's process in ms (user + system): steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const op: LinearOperator = {
  dim: n,
  async matvec(v) {
    const t = performance.now();
    const c = cpuMs();
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = Math.fround(d[i] * Math.fround(v[i]));
    opMs += performance.now() - t;
    opCpuMs += cpuMs() - c;
    return y;
  },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows: Record<string, number | string>[] = [];
for (const k of [1, 5]) {
  for (const mode of ["full", "partial"] as const) {
    const per: number[] = [];
    const perCpu: number[] = [];
    let last = { matvecs: 0, full: 0, value: 0 };
    for (let r = -1; r < reps; r++) {
      opMs = 0;
      opCpuMs = 0;
      const t = performance.now();
      const c = cpuMs();
      const res = await lanczos(op, { k, tol: 1e-6, key: Key.fromSeed(2 + r), reorthogonalization: mode });
      if (r >= 0) {
        // r = −1 warms V8 up
        per.push((performance.now() - t - opMs) / res.iterations);
        perCpu.push((cpuMs() - c - opCpuMs) / res.iterations);
      }
      last = { matvecs: res.matvecs, full: res.fullReorthogonalizations, value: res.values[k - 1] };
    }
    rows.push({
      k,
      mode,
      products: last.matvecs,
      fullSteps: last.full,
      hostMsPerIteration: +median(per).toFixed(2),
      hostCpuMsPerIteration: +median(perCpu).toFixed(2),
      theta: last.value,
    });
  }
}
for (const r of rows) console.log(JSON.stringify(r));
