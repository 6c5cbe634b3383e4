/**
 * What `fn` is refused with: `describe` of the error when it throws a `type`, 'accepted' when it
 * returns; any other error is rethrown (a bug, not a refusal).
 */
export function refusalOf<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E, describe: (err: E) => string): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return describe(err);
    throw err;
  }
  return 'accepted';
}
