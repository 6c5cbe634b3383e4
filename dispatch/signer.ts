/**
 * What dispatch sends to a device, signed (contract 2 of issue #7): acks and dispositions on
 * `.../acks` (typ alpr-ack+jws) and commands on `.../cmd/{name}` (typ alpr-cmd+jws), each a JWS
 * compact string, ES256, with the dispatch signing chain in x5c so the device can check it up to
 * the agency CA and that the leaf is the dispatch identity it expects.
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { signCompact } from '../gateway/delivery/jose-compact.ts';
import { commonName, parsePemBundle } from '../provisioning/chain.ts';

export const ACK_TYP = 'alpr-ack+jws';
/** The ack of a device event (`.../events`), on the same `.../acks` topic: `{eventId, device, receivedAt}`. */
export const EVENT_ACK_TYP = 'alpr-event-ack+jws';
export const CMD_TYP = 'alpr-cmd+jws';
export const CMD_RESULT_TYP = 'alpr-cmd-result+jws';
/** A device event on `.../events`, signed by the device. */
export const EVENT_TYP = 'alpr-event+jws';

export type Disposition = 'visually-verified' | 'misread' | 'confirmed';
export const DISPOSITIONS: readonly Disposition[] = ['visually-verified', 'misread', 'confirmed'];

export interface AckPayload {
  readonly hitId: string;
  readonly device: string;
  readonly receivedAt: number;
  readonly disposition?: Disposition;
  readonly reason?: string;
  readonly by?: string;
  readonly at?: number;
}

export interface CommandPayload {
  readonly id: string;
  readonly name: string;
  readonly device: string;
  readonly args: unknown;
  readonly iat: number;
  readonly exp: number;
}

export interface DispatchSigner {
  /** The signing certificate's CN: what devices (and peer receivers) expect of dispatch. */
  readonly commonName: string;
  signAck(ack: AckPayload): Promise<string>;
  signEventAck(ack: { readonly eventId: string; readonly device: string; readonly receivedAt: number }): Promise<string>;
  signCommand(device: string, name: string, args: unknown, now: number, ttlMs: number): Promise<{ jws: string; payload: CommandPayload }>;
}

export function createDispatchSigner(signingKeyPem: string, signingChainPem: string): DispatchSigner {
  let key: KeyObject;
  try {
    key = createPrivateKey(signingKeyPem);
  } catch (err) {
    throw new Error(`dispatch signing key: not a usable private key (${(err as Error).message})`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('dispatch signing key: expected an EC P-256 key (ES256)');
  const chain = parsePemBundle(signingChainPem, 'dispatch signing chain');
  const leaf = chain[0];
  if (!leaf?.checkPrivateKey(key)) throw new Error('dispatch signing chain: the first certificate does not belong to the signing key');
  const x5c = chain.map((c) => c.raw.toString('base64'));
  // node:crypto, not jose's CompactSign: its WebCrypto path cost twice the CPU (an ack per hit).
  const sign = async (typ: string, payload: unknown): Promise<string> => signCompact(payload, typ, key, x5c);
  return {
    commonName: commonName(leaf) ?? '',
    signAck: (ack) => sign(ACK_TYP, ack),
    signEventAck: (ack) => sign(EVENT_ACK_TYP, ack),
    signCommand: async (device, name, args, now, ttlMs) => {
      const payload: CommandPayload = { id: randomUUID(), name, device, args: args ?? {}, iat: now, exp: now + ttlMs };
      return { jws: await sign(CMD_TYP, payload), payload };
    },
  };
}
