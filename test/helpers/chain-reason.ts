import { ChainError } from '../../provisioning/chain.ts';

/** The ChainError reason `fn` throws, or 'accepted' when it returns; any other error is rethrown. */
export function chainReasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ChainError) return err.reason;
    throw err;
  }
  return 'accepted';
}
