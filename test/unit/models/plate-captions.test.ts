import { describe, expect, it } from 'vitest';
import { isStateCaption } from '../../../models/plates/captions.ts';
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
