import { describe, expect, it } from 'vitest';
import { hitState, nextDispositions } from '../../../dispatch/hit-view.ts';
import type { ReceivedHit } from '../../../dispatch/receiver.ts';
import type { Disposition } from '../../../dispatch/signer.ts';
import { makeHit } from './fixtures.ts';

function withDispositions(...ds: Disposition[]): ReceivedHit {
  const hit = makeHit('pole-1', 'test-pd', Date.now());
  return { v: 1, hitId: hit.hitId, agency: 'test-pd', device: 'pole-1', hit, receivedAt: 0, latencyMs: 0, transitMs: 0, signer: { cn: 'pole-1', serial: '1' }, dispositions: ds.map((d, i) => ({ disposition: d, reason: 'r', by: 'b', at: i })) };
}

describe("a hit's life (P5: alert → verified or misread → confirmed)", () => {
  it('starts as an alert that may take any disposition', () => {
    expect(hitState(withDispositions())).toBe('alert');
    expect(nextDispositions(withDispositions())).toEqual(['visually-verified', 'misread', 'confirmed']);
  });

  it('once visually verified may still be found a misread or be confirmed', () => {
    expect(hitState(withDispositions('visually-verified'))).toBe('visually-verified');
    expect(nextDispositions(withDispositions('visually-verified'))).toEqual(['misread', 'confirmed']);
  });

  it('is closed by misread or confirmed', () => {
    expect(nextDispositions(withDispositions('misread'))).toEqual([]);
    expect(nextDispositions(withDispositions('visually-verified', 'confirmed'))).toEqual([]);
    expect(hitState(withDispositions('visually-verified', 'confirmed'))).toBe('confirmed');
  });
});
