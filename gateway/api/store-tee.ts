/**
 * The pipeline holds the DetectionStore itself; the console needs to see each detection as it is
 * stored (commissioning passes, the reads-per-hour chart). This returns the same store with `put`
 * teed: the detection is stored first, then offered to `observe`, whose failures are reported and
 * never reach the pipeline. Everything else is the store's own method, bound to it.
 */
import type { DetectionStore } from '../store/detection-store.ts';
import type { Detection, DetectionImages } from '../types.ts';

export type DetectionObserver = (detection: Detection, images: DetectionImages) => void | Promise<void>;

export function withDetectionTee(store: DetectionStore, observe: DetectionObserver, onError: (err: unknown) => void = () => undefined): DetectionStore {
  const put: DetectionStore['put'] = async (detection, images) => {
    const ref = await store.put(detection, images);
    try {
      await observe(detection, images);
    } catch (err) {
      onError(err); // the console's view is secondary: the stored record is what matters
    }
    return ref;
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'put') return put;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
