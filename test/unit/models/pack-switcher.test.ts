import { describe, expect, it } from 'vitest';
import { ModelPackError, RecognizerClosedError } from '../../../models/errors.ts';
import { SwitchablePlateRecognizer, tryReplacement } from '../../../models/packs/switcher.ts';
import { ScriptedPlateRecognizer, scriptedRead } from '../../../models/scripted-recognizer.ts';
import type { PlateRecognizer, RecognitionResult, RgbImage } from '../../../models/types.ts';

const IMAGE: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) };

/** A recogniser that reads `text`, whose answers can be held back, and that records close(). */
class Held implements PlateRecognizer {
  closed = false;
  private gates: (() => void)[] = [];
  hold = false;

  constructor(readonly modelVersion: string) {}

  async recognize(): Promise<RecognitionResult> {
    if (this.closed) throw new RecognizerClosedError();
    if (this.hold) await new Promise<void>((r) => this.gates.push(r));
    return { reads: [scriptedRead(`${this.modelVersion.toUpperCase()}1`)], timings: { detectMs: 0, recogniseMs: 0, postprocessMs: 0, totalMs: 0 } };
  }

  release(): void {
    for (const g of this.gates.splice(0)) g();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const packFailure = (): Promise<PlateRecognizer> => Promise.reject(new ModelPackError({ pack: 'next', file: 'rec.onnx', problem: 'sha256 is 00…, the manifest pins ff…' }));

describe('SwitchablePlateRecognizer', () => {
  it('keeps serving with the current recogniser when the next fails to load', async () => {
    const a = new Held('a');
    const r = new SwitchablePlateRecognizer(a);
    const outcome = await r.switchTo(packFailure);
    expect(outcome).toMatchObject({ switched: false, modelVersion: 'a' });
    expect(!outcome.switched && outcome.error.message).toMatch(/model pack "next", file rec.onnx: sha256/);
    expect(r.modelVersion).toBe('a');
    expect(a.closed).toBe(false);
    expect((await r.recognize(IMAGE)).reads[0]?.text).toBe('A1');
  });

  it('keeps the current one, and closes the candidate, when the candidate fails its probe', async () => {
    const b = new Held('b');
    const r = new SwitchablePlateRecognizer(new Held('a'), {
      probe: async (c) => {
        const { reads } = await c.recognize(IMAGE);
        if (reads[0]?.text !== 'A1') throw new Error(`probe read ${reads[0]?.text}`);
      },
    });
    const outcome = await r.switchTo(async () => b);
    expect(outcome).toMatchObject({ switched: false, modelVersion: 'a' });
    expect(!outcome.switched && outcome.error.message).toBe('probe read B1');
    expect(b.closed).toBe(true);
  });

  it('switches, and closes the old recogniser only after its in-flight frames are answered', async () => {
    const a = new Held('a');
    const b = new Held('b');
    const r = new SwitchablePlateRecognizer(a);
    a.hold = true;
    const inFlight = r.recognize(IMAGE);
    expect(await r.switchTo(async () => b)).toEqual({ switched: true, modelVersion: 'b', previous: 'a' });
    expect((await r.recognize(IMAGE)).reads[0]?.text).toBe('B1'); // new frames go to b at once
    expect(a.closed).toBe(false); // a still owes an answer
    a.release();
    expect((await inFlight).reads[0]?.text).toBe('A1');
    expect(a.closed).toBe(true);
    await r.close();
    expect(b.closed).toBe(true);
  });

  it('applies switches one at a time in call order', async () => {
    const r = new SwitchablePlateRecognizer(new Held('a'));
    const order: string[] = [];
    const slow = async (): Promise<PlateRecognizer> => {
      await new Promise((resolve) => setImmediate(resolve));
      order.push('b loaded');
      return new Held('b');
    };
    const fast = async (): Promise<PlateRecognizer> => {
      order.push('c loaded');
      return new Held('c');
    };
    const [first, second] = await Promise.all([r.switchTo(slow), r.switchTo(fast)]);
    expect(order).toEqual(['b loaded', 'c loaded']);
    expect(first).toMatchObject({ switched: true, previous: 'a', modelVersion: 'b' });
    expect(second).toMatchObject({ switched: true, previous: 'b', modelVersion: 'c' });
    await r.close();
  });

  it('close() waits for frames in flight, refuses new ones, and a later switch is refused', async () => {
    const a = new Held('a');
    a.hold = true;
    const r = new SwitchablePlateRecognizer(a);
    const inFlight = r.recognize(IMAGE);
    const closing = r.close();
    await expect(r.recognize(IMAGE)).rejects.toThrow(RecognizerClosedError);
    expect(a.closed).toBe(false);
    a.release();
    await closing;
    expect((await inFlight).reads).toHaveLength(1);
    expect(a.closed).toBe(true);
    const late = await r.switchTo(async () => new Held('z'));
    expect(late).toMatchObject({ switched: false });
  });

  it('passes a failure to close a retired recogniser to onError', async () => {
    const errors: string[] = [];
    const bad = new ScriptedPlateRecognizer({ modelVersion: 'bad' });
    bad.close = () => Promise.reject(new Error('release failed'));
    const r = new SwitchablePlateRecognizer(bad, { onError: (e) => errors.push(e.message) });
    await r.switchTo(async () => new Held('b'));
    await r.close();
    expect(errors).toEqual(['release failed']);
  });
});

describe('tryReplacement', () => {
  it('returns the load error without touching anything', async () => {
    const result = await tryReplacement(packFailure);
    expect('error' in result && result.error).toBeInstanceOf(ModelPackError);
  });
});
