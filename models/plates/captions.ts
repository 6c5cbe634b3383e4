/**
 * Captions mistaken for registrations. A state name printed on a plate ("TEXAS", "NEW YORK")
 * reads as a perfectly plausible all-letter string, and since vanity plates may be all letters,
 * geometry alone cannot drop it when the registration itself is out of view (a plate half out of
 * the frame). A read that spells a state name — allowing the digit-for-letter look-alikes the
 * recogniser produces and one slip on longer names — is a caption, never a plate.
 */
import { editDistance } from './state-match.ts';
import { US_STATE_NAMES } from './us-states.ts';

/** Digit look-alikes folded back to the letters of a printed word. */
const FOLD: Readonly<Record<string, string>> = { '0': 'O', '1': 'I', '5': 'S', '8': 'B', '2': 'Z', '6': 'G' };

const NAMES = Object.values(US_STATE_NAMES).map((n) => n.replace(/[^A-Z]/g, ''));

export function isStateCaption(text: string): boolean {
  const upper = text.toUpperCase();
  const word = [...upper].map((c) => FOLD[c] ?? c).join('');
  if (!/^[A-Z]{4,}$/.test(word)) return false;
  // A dropped or extra character is only forgiven in an all-letter read: "NEVADA1" is a vanity plate.
  const lengthSlip = /^[A-Z]+$/.test(upper) ? 1 : 0;
  return NAMES.some((name) => word === name || (name.length >= 6 && Math.abs(name.length - word.length) <= lengthSlip && editDistance(word, name) <= 1));
}

/**
 * A read's candidates without the state names among them, its own text kept. The text has passed
 * the plate rules, but the alternatives had not: a pass's vote counts them, so a caption
 * alternative could become the pass's plate (camera bench: 0REG0N stored as a vehicle, voted from
 * the alternatives of reads of another text).
 */
export function withoutCaptions<C extends { readonly text: string }>(text: string, candidates: readonly C[]): C[] {
  return candidates.filter((c) => c.text === text || !isStateCaption(c.text));
}
