import { describe, expect, it } from 'vitest';
import { ScriptedPlateRecognizer, scriptedRead } from '../../../models/scripted-recognizer.ts';
import { recognizerSelfTest, SELF_TEST_PLATES, selfTestProbe } from '../../../ota/model-selftest.ts';

describe('model self-test', () => {
  it('passes a recogniser that reads the rendered plates, fails one that does not, and says what it read', async () => {
    const reads = (miss: number) => new ScriptedPlateRecognizer({
      modelVersion: `test@${miss}`,
      script: (_image, call) => [scriptedRead(call < miss ? 'WRONG1' : SELF_TEST_PLATES[call]!)],
    });
    expect(await recognizerSelfTest(reads(0))()).toBe(true);
    expect(await recognizerSelfTest(reads(1))()).toBe(true); // one hard plate may be missed
    expect(await recognizerSelfTest(reads(2))()).toBe(false);
    await expect(selfTestProbe()(reads(2))).rejects.toThrow(/test@2 read 2 of 4 test plates; missed 7ABC123 \(read: WRONG1\)/);
  });
});
