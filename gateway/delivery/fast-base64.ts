/**
 * `Uint8Array.prototype.toBase64` and `Uint8Array.fromBase64` (TC39 "Uint8Array to/from base64",
 * ES2026) on Node versions that lack them, implemented with Buffer. jose uses them when present
 * and otherwise falls back to `btoa`/`atob` over strings built 32 KB at a time
 * (jose/dist/webapi/lib/buffer_utils.js): with a 100 KB overview image inside a JWS inside a JWE
 * that fallback costs ~8 ms per hit, more than all the cryptography, and caps delivery below
 * 100 hits/s on a Pi-class core. Installed by the composition roots (createDelivery, the bench),
 * never at import time; a runtime that has the real methods keeps them.
 *
 * Decoding is strict as the proposal is: characters outside the alphabet are a SyntaxError
 * (Buffer alone would skip them silently).
 */
type Alphabet = 'base64' | 'base64url';

interface ToBase64Options {
  readonly alphabet?: Alphabet;
  readonly omitPadding?: boolean;
}

const STRICT: Record<Alphabet, RegExp> = {
  base64: /^[A-Za-z0-9+/]*={0,2}$/,
  base64url: /^[A-Za-z0-9_-]*={0,2}$/,
};

export function installFastBase64(): void {
  const proto = Uint8Array.prototype as unknown as { toBase64?: (o?: ToBase64Options) => string };
  const ctor = Uint8Array as unknown as { fromBase64?: (s: string, o?: { alphabet?: Alphabet }) => Uint8Array };
  if (typeof proto.toBase64 !== 'function') {
    Object.defineProperty(proto, 'toBase64', {
      configurable: true,
      writable: true,
      value: function toBase64(this: Uint8Array, options: ToBase64Options = {}): string {
        const alphabet = options.alphabet ?? 'base64';
        const text = Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString(alphabet);
        // Buffer's base64url never pads; base64 always does.
        if (alphabet === 'base64url') return options.omitPadding ? text : text + '='.repeat((4 - (text.length % 4)) % 4);
        if (!options.omitPadding) return text;
        let end = text.length;
        while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
        return text.slice(0, end);
      },
    });
  }
  if (typeof ctor.fromBase64 !== 'function') {
    Object.defineProperty(ctor, 'fromBase64', {
      configurable: true,
      writable: true,
      value: function fromBase64(input: string, options: { alphabet?: Alphabet } = {}): Uint8Array {
        const alphabet = options.alphabet ?? 'base64';
        if (typeof input !== 'string') throw new TypeError('fromBase64: expected a string');
        // The common case (no whitespace) is checked with one pass over the string.
        let text = input;
        if (!STRICT[alphabet].test(text)) {
          text = input.replace(/[\t\n\f\r ]/g, '');
          if (!STRICT[alphabet].test(text)) throw new SyntaxError(`fromBase64: not valid ${alphabet}`);
        }
        let end = text.length;
        while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) end--;
        if (end % 4 === 1) throw new SyntaxError(`fromBase64: not valid ${alphabet} (length)`);
        const buf = Buffer.from(text, alphabet);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      },
    });
  }
}
