import { describe, expect, it } from 'vitest';
import { isStateCaption, withoutCaptions } from '../../../models/plates/captions.ts';
import { plateText } from '../../../models/plate-rules.ts';

describe('state names are captions, not plates (regression: TEXAS, NEWY0RK read as vehicles)', () => {
  it('recognises state names as read, with digit look-alikes and one slip on long names', () => {
    for (const t of ['TEXAS', 'NEWY0RK', 'NEVADA', 'ARIZ0NA', 'CALIF0RNIA', 'CALIFORNA', 'WASHINGTON', '1DAHO', 'FL0RIDA']) {
      expect(isStateCaption(t), t).toBe(true);
    }
  });

  it('leaves registrations and vanity plates alone', () => {
    for (const t of ['7ABC123', 'ABC1234', 'ANYTEXT', 'TEXAN1', 'OHIO1', 'UTAH22', 'IOWA4U', 'SAMPLE', 'TEXASS1']) {
      expect(isStateCaption(t), t).toBe(false);
    }
  });

  it('plateText refuses a state name even with high confidence', () => {
    expect(plateText('NEVADA', 0.99)).toBe(false);
    expect(plateText('NEVADA1', 0.99)).toBe(true);
  });
});

describe('a read’s alternatives', () => {
  it('lose the state names among them, so a pass cannot vote a caption in (regression: 0REG0N stored as a vehicle)', () => {
    const cands = [{ text: '7RE601', score: 0.5 }, { text: '0REG0N', score: 0.3 }, { text: '7RE60I', score: 0.1 }, { text: 'ORE60N', score: 0.1 }];
    expect(withoutCaptions('7RE601', cands).map((c) => c.text)).toEqual(['7RE601', '7RE60I']);
    // The read's own text stays (it passed the plate rules, or a caller chose to keep it).
    expect(withoutCaptions('TEXAS', [{ text: 'TEXAS', score: 1 }])).toEqual([{ text: 'TEXAS', score: 1 }]);
  });
});
