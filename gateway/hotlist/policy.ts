/**
 * Matching policy: how fuzzy a hit may be. The defaults are set by the hot-list bench's
 * trade-off curve (docs/hotlist-index.md): with a million listed plates, one free edit on every
 * entry turns a large share of passing cars into false hits, so edits are allowed by default
 * only where listed plates are sparse (long plates) or a missed hit costs most (AMBER and Silver
 * alerts, a handful of entries).
 */
import type { HotlistType } from '../types.ts';
import { DEFAULT_EQUIVALENCE } from './equivalence.ts';
import { MAX_EDITS } from './plate-index.ts';

/** Steps `[fromLength, k]`: a listed plate of length L tolerates the k of the last step with fromLength ≤ L. */
export type EditSteps = readonly (readonly [fromLength: number, k: number])[];

export type StateMismatch = 'exclude' | 'demote';

export interface MatchPolicy {
  /** Look-alike classes, e.g. "O0DQ": a read character may stand for any of its class. */
  readonly equivalence: readonly string[];
  /**
   * Look-alike substitutions tolerated in one hit, by listed plate length (steps as for edits).
   * Each substitution allowed multiplies the plates a read could stand for; where a list is
   * dense (short plates) most of them are someone else's plate.
   */
  readonly lookalikes: EditSteps;
  /** Per-list-type replacements of `lookalikes`. */
  readonly lookalikesByType: Partial<Record<HotlistType, EditSteps>>;
  /** Edits (after look-alikes) tolerated by listed plate length. */
  readonly editDistance: EditSteps;
  /** Per-list-type replacements of `editDistance`. */
  readonly editDistanceByType: Partial<Record<HotlistType, EditSteps>>;
  /** A read whose state is known and differs from the entry's: no hit, or a hit ranked last and flagged. */
  readonly stateMismatch: StateMismatch;
  /**
   * Edit distance applies to this many of a read's candidates (the voted text first); the others
   * hit exactly, by look-alike or by wildcard only. Alternatives already are near-misses of the
   * voted text; a free edit on top multiplies false hits.
   */
  readonly fuzzyCandidates: number;
  /**
   * Alternatives (candidates after the voted text) whose score — their share of the pass's
   * vote — is below this are not matched at all. Each alternative matched is one more plate
   * that can hit by chance; a weak alternative is more likely noise than the plate.
   */
  readonly minCandidateScore: number;
  /** P3: past this age since generation a list is stale (hits are flagged, an event is raised). */
  readonly maxAgeMs: number;
}

export const DEFAULT_POLICY: MatchPolicy = {
  equivalence: DEFAULT_EQUIVALENCE,
  // Plates of six characters or fewer fill their formats densely: a blind look-alike swap
  // there hits someone else's plate several times more often than the misread plate (bench).
  lookalikes: [[0, 0], [7, 1]],
  // A missed AMBER alert or wanted person costs more than a wasted stop: look-alikes on every length.
  lookalikesByType: { amber: [[0, 1]], silver: [[0, 1]], wanted: [[0, 1]], missing: [[0, 1]] },
  editDistance: [[0, 0], [8, 1]],
  editDistanceByType: { amber: [[0, 0], [5, 1]], silver: [[0, 0], [5, 1]] },
  stateMismatch: 'exclude',
  fuzzyCandidates: 1,
  minCandidateScore: 0.15,
  maxAgeMs: 24 * 3600_000,
};

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

export function resolvePolicy(overrides: Partial<MatchPolicy> = {}): MatchPolicy {
  const policy = { ...DEFAULT_POLICY, ...overrides };
  const check = (steps: EditSteps, where: string): void => {
    let last = -1;
    for (const [from, k] of steps) {
      if (!Number.isInteger(from) || from <= last) throw new PolicyError(`${where}: step lengths must be increasing integers`);
      if (!Number.isInteger(k) || k < 0 || k > MAX_EDITS) throw new PolicyError(`${where}: k must be an integer 0–${MAX_EDITS}, got ${k}`);
      last = from;
    }
  };
  check(policy.editDistance, 'editDistance');
  for (const [type, steps] of Object.entries(policy.editDistanceByType)) check(steps ?? [], `editDistanceByType.${type}`);
  for (const steps of [policy.lookalikes, ...Object.values(policy.lookalikesByType)]) {
    for (const [from, n] of steps ?? []) {
      if (!Number.isInteger(from) || !Number.isInteger(n) || n < 0) throw new PolicyError('lookalikes: steps of [fromLength, count ≥ 0]');
    }
  }
  if (!(policy.minCandidateScore >= 0 && policy.minCandidateScore <= 1)) throw new PolicyError('minCandidateScore: expected 0–1');
  if (!Number.isInteger(policy.fuzzyCandidates) || policy.fuzzyCandidates < 0) throw new PolicyError('fuzzyCandidates: expected an integer ≥ 0');
  if (!(policy.maxAgeMs > 0)) throw new PolicyError('maxAgeMs: expected a positive number');
  return policy;
}

/** Uniform k, and look-alikes everywhere, for every plate and list type: the bench's trade-off curve. */
export function uniformEdits(k: number, lookalikes = 10): Pick<MatchPolicy, 'editDistance' | 'editDistanceByType' | 'lookalikes' | 'lookalikesByType'> {
  return { editDistance: [[0, k]], editDistanceByType: {}, lookalikes: [[0, lookalikes]], lookalikesByType: {} };
}

export function lookalikesFor(policy: MatchPolicy, length: number, listType: HotlistType): number {
  return stepValue(policy.lookalikesByType[listType] ?? policy.lookalikes, length);
}

/** The value of the last step whose length is ≤ `length` (0 before the first step). */
export function stepValue(steps: EditSteps, length: number): number {
  let v = 0;
  for (const [from, value] of steps) if (length >= from) v = value;
  return v;
}

export function editsFor(policy: MatchPolicy, length: number, listType: HotlistType): number {
  return stepValue(policy.editDistanceByType[listType] ?? policy.editDistance, length);
}
