/** The shape every generalization bound in theory/ returns. */

/** A bound's value and whether it says anything. */
export interface BoundResult {
  /** The bound. */
  readonly value: number;
  /**
   * Whether the bound is vacuous: at or above `trivial`, a value the quantity it bounds can never
   * exceed (1 for a gap or risk of a loss in [0, 1]), so it carries no information.
   */
  readonly vacuous: boolean;
  /** The trivial level `vacuous` compares with. */
  readonly trivial: number;
}

/** Builds a `BoundResult`; `slack` absorbs rounding in bounds that approach `trivial` from below. */
export function boundResult<T extends object>(value: number, trivial: number, extra: T, slack = 0): BoundResult & T {
  return { value, vacuous: !(value < trivial - slack), trivial, ...extra };
}
