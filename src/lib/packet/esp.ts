/** ESP (RFC 4303): header, and for tests a null-cipher trailer (RFC 2410) so payloads stay readable. */
import { checkFields } from './check-fields.js';

/**
 * The trailer written after the inner layers when the ESP payload is sent in the clear
 * (xfrm state with ealg "ecb(cipher_null)"). Parsing never fills this in: ESP payload is opaque
 * on the wire; call decodeEspNull() to open it.
 */
export interface EspNullTrailer {
  /** Defaults to 1, 2, 3, ... so that payload + 2 is a multiple of 4 (RFC 4303 §2.4). */
  padding?: Uint8Array;
  /** Defaults to padding.length. */
  padLen?: number;
  /** Next header; filled from the first inner layer when absent. */
  nh?: number;
  /** Integrity check value (zero length for a null authenticator). */
  icv?: Uint8Array;
}

/** An ESP header (RFC 4303); the payload after it is opaque unless sent with a null cipher. */
export interface Esp {
  type: 'esp';
  /** Security parameters index. */
  spi: number;
  /** Sequence number. */
  seq: number;
  /** When set, build() writes the payload in the clear with this trailer (xfrm ecb(cipher_null)). */
  nullCipher?: EspNullTrailer;
}

export function esp(f: Partial<Omit<Esp, 'type'>> = {}): Esp {
  checkFields('esp', f);
  const l: Esp = { type: 'esp', spi: f.spi ?? 0, seq: f.seq ?? 0 };
  if (f.nullCipher !== undefined) l.nullCipher = f.nullCipher;
  return l;
}

export function espPadding(payloadLen: number, t: EspNullTrailer): Uint8Array {
  if (t.padding) return t.padding;
  const n = (4 - ((payloadLen + 2) % 4)) % 4;
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = i + 1;
  return p;
}

export function espTrailerLen(l: Esp, payloadLen: number): number {
  const t = l.nullCipher;
  if (!t) return 0;
  return espPadding(payloadLen, t).length + 2 + (t.icv?.length ?? 0);
}

export function writeEspHeader(l: Esp, buf: Buffer, off: number): void {
  buf.writeUInt32BE(l.spi >>> 0, off);
  buf.writeUInt32BE(l.seq >>> 0, off + 4);
}

export function writeEspTrailer(l: Esp, buf: Buffer, off: number, payloadLen: number, nh: number): void {
  const t = l.nullCipher;
  if (!t) return;
  const pad = espPadding(payloadLen, t);
  buf.set(pad, off);
  buf[off + pad.length] = t.padLen ?? pad.length;
  buf[off + pad.length + 1] = t.nh ?? nh;
  if (t.icv) buf.set(t.icv, off + pad.length + 2);
}

export function readEspHeader(buf: Buffer, off: number, end: number): Esp | undefined {
  if (end - off < 8) return undefined;
  return { type: 'esp', spi: buf.readUInt32BE(off), seq: buf.readUInt32BE(off + 4) };
}
