/**
 * Status LED patterns, as data: a cycle of [on?, ms] steps repeated forever. Chosen to be told
 * apart at a glance from the ground, including by someone colour-blind (one LED, timing only):
 *
 *   ok            a short blink every 2 s (alive, and obviously not a stuck-on LED)
 *   degraded      slow even blink, 1 s on / 1 s off
 *   fault         fast blink, 4 per second
 *   provisioning  double blink, then a pause (waiting for a technician)
 */
export type LedPattern = 'ok' | 'degraded' | 'fault' | 'provisioning';

export type Step = readonly [on: boolean, ms: number];

export const LED_PATTERNS: Readonly<Record<LedPattern, readonly Step[]>> = {
  ok: [[true, 100], [false, 1_900]],
  degraded: [[true, 1_000], [false, 1_000]],
  fault: [[true, 125], [false, 125]],
  provisioning: [[true, 150], [false, 150], [true, 150], [false, 1_050]],
};

/** Which pattern wins when several parts want the LED: the most urgent. */
export const LED_SEVERITY: Readonly<Record<LedPattern, number>> = { ok: 0, provisioning: 1, degraded: 2, fault: 3 };
