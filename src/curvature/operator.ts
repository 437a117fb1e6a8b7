/**
 * The linear-operator abstraction every curvature algorithm works on (Lanczos, power iteration,
 * Hutchinson, Hutch++, SLQ). Vectors are host float64 arrays: the algorithms keep their bases and
 * reorthogonalize in float64 on the host, while `matvec` may run a Hessian-vector product on the
 * device in the run's dtype. `matvec` must not modify its argument.
 */
export interface LinearOperator {
  /** Dimension n of the (square, symmetric) operator. */
  readonly dim: number;
  /** y = A v. */
  matvec(v: Float64Array): Promise<Float64Array>;
}

/** Wraps an operator to count its matvecs (the cost unit reported as `hessian/hvps`). */
export class CountingOperator implements LinearOperator {
  count = 0;
  constructor(readonly inner: LinearOperator) {}
  get dim(): number {
    return this.inner.dim;
  }
  matvec(v: Float64Array): Promise<Float64Array> {
    this.count++;
    return this.inner.matvec(v);
  }
}

/** An explicit dense symmetric matrix (row-major n×n) as an operator: for tests and tiny models. */
export function denseOperator(a: Float64Array, n: number): LinearOperator {
  if (a.length !== n * n) throw new Error(`dense operator: expected ${n * n} entries, got ${a.length}`);
  return {
    dim: n,
    async matvec(v) {
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += a[i * n + j] * v[j];
        y[i] = s;
      }
      return y;
    },
  };
}
