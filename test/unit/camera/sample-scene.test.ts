import { describe, expect, it } from 'vitest';
import { planScene, plateWindows, posesAt } from '../../../drivers/camera/sample-scene.ts';
import type { SceneOptions } from '../../../drivers/camera/sample-scene.ts';

const base: SceneOptions = {
  seed: 42,
  width: 1280,
  height: 720,
  fps: 10,
  vehicleCount: 6,
  secondsPerVehicle: 4,
  headwaySec: 3,
  plateWidth: 200,
  leadSec: 0.5,
};

describe('sample clip scene', () => {
  it('is deterministic: the same seed gives the same vehicles, another seed others', () => {
    expect(planScene(base)).toEqual(planScene(base));
    expect(planScene({ ...base, seed: 43 }).vehicles.map((v) => v.plate)).not.toEqual(planScene(base).vehicles.map((v) => v.plate));
  });

  it('makes up US-style plates and state names, without I, O or Q', () => {
    const plan = planScene({ ...base, vehicleCount: 30 });
    for (const v of plan.vehicles) {
      expect(v.plate).toMatch(/^[A-HJ-NPR-Z0-9]{6,7}$/);
      expect(v.stateName).not.toBe('');
    }
  });

  it('shows the plates it is given, in order, with the vehicles it would have drawn anyway', () => {
    const given = planScene({ ...base, vehicles: [{ plate: '7ABC123', stateName: 'California' }, { plate: 'XYZ 987' }] });
    expect(given.vehicles.map((v) => [v.plate, v.stateName])).toEqual([
      ['7ABC123', 'California'],
      ['XYZ 987', ''],
    ]);
    const madeUp = planScene({ ...base, vehicleCount: 2 });
    expect(given.vehicles.map((v) => [v.kind, v.color, v.laneX])).toEqual(madeUp.vehicles.map((v) => [v.kind, v.color, v.laneX]));
  });

  it('keeps every plate fully in view for at least 1.5 s, about 200 px wide, inside the frame', () => {
    const plan = planScene(base);
    const windows = plateWindows(plan);
    expect(windows).toHaveLength(plan.vehicles.length);
    for (const w of windows) {
      expect(w.to - w.from).toBeGreaterThanOrEqual(1.5);
      expect(w.box.width).toBeGreaterThan(170);
      expect(w.box.width).toBeLessThan(240);
      expect(w.box.x).toBeGreaterThanOrEqual(0);
      expect(w.box.y).toBeGreaterThanOrEqual(0);
      expect(w.box.x + w.box.width).toBeLessThanOrEqual(1280);
      expect(w.box.y + w.box.height).toBeLessThanOrEqual(720);
      expect(w.midTime).toBeGreaterThan(w.vehicle.enterAt);
      expect(w.midTime).toBeLessThan(w.vehicle.leaveAt);
    }
    // Vehicles come one after another.
    const mids = windows.map((w) => w.midTime);
    expect([...mids].sort((a, b) => a - b)).toEqual(mids);
  });

  it('drives vehicles up the frame (away from the camera), plates shrinking', () => {
    const plan = planScene(base);
    const v = plan.vehicles[0];
    if (!v) throw new Error('no vehicle');
    const early = posesAt(plan, v.enterAt + 1).find((p) => p.vehicle === v);
    const late = posesAt(plan, v.enterAt + 3).find((p) => p.vehicle === v);
    expect(late?.plate.y).toBeLessThan(early?.plate.y ?? 0);
    expect(late?.plate.width).toBeLessThan(early?.plate.width ?? 0);
  });
});
