// ESP's cryptographic transforms (RFC 4303 §2-3), written independently of the kernel with
// node:crypto: seal a payload into the bytes from the ESP header to the ICV, and open such bytes
// back. AEAD per RFC 4106 (GCM), 4309 (CCM), 4543 (GMAC) and 7634 (ChaCha20-Poly1305); otherwise
// a cipher (RFC 2405, 2451, 3602, 3686, 4312, 8998...) followed by a truncated MAC over header, IV
// and ciphertext. With extended sequence numbers the high 32 bits are authenticated, never sent:
// appended to the MAC input, or in the AAD between SPI and sequence number.
import { randomBytes } from 'node:crypto';
import { findAlgorithm, type AeadAlgorithm, type AuthAlgorithm, type CryptAlgorithm } from './algorithms.js';

/** What the transforms need from an SA; a netlink SaSpec fits as is. Keys as bytes or hex. */
export interface EspSaKeys {
  spi: number;
  crypt?: { name: string; key: Buffer | string };
  auth?: { name: string; key: Buffer | string; truncLen?: number };
  /** icvLen in bits, as xfrm takes it. */
  aead?: { name: string; key: Buffer | string; icvLen: number };
  /** XFRM_STATE_* flag names; 'esn' (any case) turns on extended sequence numbers. */
  flags?: readonly string[];
}

export interface SealInput {
  seq: number;
  /** High 32 bits of an extended sequence number (ESN SAs only; authenticated, not sent). */
  seqHi?: number;
  /** The trailer's next header: 4 or 41 in tunnel mode, the transport protocol otherwise. */
  nextHeader: number;
  payload: Uint8Array;
  /** Default: random bytes. */
  iv?: Uint8Array;
  /** Default: 1, 2, 3, ... up to the cipher's alignment (RFC 4303 §2.4). */
  padding?: Uint8Array;
  /** The pad length byte; default padding.length. A different value makes a lying trailer. */
  padLen?: number;
}

export interface EspOpened {
  spi: number;
  seq: number;
  iv: Buffer;
  /** The protected payload without the trailer. */
  payload: Buffer;
  padding: Buffer;
  padLen: number;
  nextHeader: number;
  icv: Buffer;
}

export type EspErrorReason = 'length' | 'icv' | 'padding' | 'unsupported';

export class EspError extends Error {
  constructor(readonly reason: EspErrorReason, message: string) {
    super(message);
    this.name = 'EspError';
  }
}

export interface EspTransform {
  readonly spi: number;
  readonly ivLen: number;
  /** ICV length in bytes. */
  readonly icvLen: number;
  /** Payload + pad + 2 is a multiple of this: ALIGN(cipher block size, 4), as esp_output() does. */
  readonly align: number;
  readonly esn: boolean;
  /** Why the cipher cannot run here (node:crypto lacks it); undefined when it can. */
  readonly missing: string | undefined;
  /** The ESP packet body: header, IV, ciphertext, ICV. */
  seal(input: SealInput): Buffer;
  /** Verifies the ICV and decrypts; throws EspError naming what is wrong. */
  open(esp: Uint8Array, opts?: { seqHi?: number }): EspOpened;
  /** Verifies only the ICV (possible when the authenticator is supported and the cipher is not). */
  checkIcv(esp: Uint8Array, opts?: { seqHi?: number }): void;
  /** The default padding for a payload of n bytes. */
  padding(payloadLen: number): Buffer;
  /** Bytes from the ESP header to the end of the ICV for a payload of n bytes, default padding. */
  wireLength(payloadLen: number): number;
}

const keyBytes = (k: Buffer | string): Buffer => (Buffer.isBuffer(k) ? k : Buffer.from(k.replace(/^0x/, ''), 'hex'));

function be32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function defaultPadding(payloadLen: number, align: number): Buffer {
  const n = (align - ((payloadLen + 2) % align)) % align;
  const p = Buffer.alloc(n);
  for (let i = 0; i < n; i++) p[i] = i + 1;
  return p;
}

function trailer(payload: Uint8Array, padding: Uint8Array, padLen: number, nh: number): Buffer {
  return Buffer.concat([payload, padding, Buffer.from([padLen & 0xff, nh & 0xff])]);
}

function splitTrailer(plain: Buffer): { payload: Buffer; padding: Buffer; padLen: number; nextHeader: number } {
  if (plain.length < 2) throw new EspError('length', `ESP plaintext of ${plain.length} bytes has no room for the trailer`);
  const padLen = plain[plain.length - 2]!;
  const nextHeader = plain[plain.length - 1]!;
  if (padLen + 2 > plain.length) throw new EspError('padding', `pad length ${padLen} exceeds the ${plain.length - 2} bytes before the trailer`);
  const end = plain.length - 2 - padLen;
  return { payload: plain.subarray(0, end), padding: plain.subarray(end, plain.length - 2), padLen, nextHeader };
}

interface Resolved {
  aead?: { alg: AeadAlgorithm; key: Buffer; salt: Buffer; icvLen: number };
  crypt?: { alg: CryptAlgorithm; key: Buffer };
  auth?: { alg: AuthAlgorithm; key: Buffer; icvLen: number };
}

function resolve(sa: EspSaKeys): Resolved {
  if (sa.aead) {
    if (sa.crypt || sa.auth) throw new RangeError('an ESP SA has either an AEAD or a cipher and an authenticator, not both');
    const alg = findAlgorithm('aead', sa.aead.name);
    const k = keyBytes(sa.aead.key);
    if (k.length < alg.saltLen) throw new RangeError(`${alg.name}: key of ${k.length} bytes is shorter than its ${alg.saltLen}-byte salt`);
    if (sa.aead.icvLen % 8 !== 0) throw new RangeError(`${alg.name}: ICV of ${sa.aead.icvLen} bits is not whole bytes`);
    return { aead: { alg, key: k.subarray(0, k.length - alg.saltLen), salt: k.subarray(k.length - alg.saltLen), icvLen: sa.aead.icvLen / 8 } };
  }
  if (!sa.crypt) throw new RangeError('an ESP SA needs a cipher (ecb(cipher_null) for none) or an AEAD');
  const r: Resolved = { crypt: { alg: findAlgorithm('crypt', sa.crypt.name), key: keyBytes(sa.crypt.key) } };
  if (sa.auth) {
    const alg = findAlgorithm('auth', sa.auth.name);
    const bits = sa.auth.truncLen ?? alg.truncBits;
    if (bits % 8 !== 0) throw new RangeError(`${alg.name}: ICV of ${bits} bits is not whole bytes`);
    r.auth = { alg, key: keyBytes(sa.auth.key), icvLen: bits / 8 };
  }
  return r;
}

/** Builds the transform for an SA; throws RangeError for an unknown algorithm or a malformed key. */
export function espTransform(sa: EspSaKeys): EspTransform {
  const r = resolve(sa);
  const esn = (sa.flags ?? []).some((f) => f.toLowerCase() === 'esn');
  const spi = sa.spi >>> 0;
  const ivLen = r.aead ? r.aead.alg.ivLen : r.crypt!.alg.ivLen;
  const icvLen = r.aead ? r.aead.icvLen : (r.auth?.icvLen ?? 0);
  const blockSize = r.aead ? r.aead.alg.blockSize : r.crypt!.alg.blockSize;
  const align = Math.ceil(blockSize / 4) * 4;
  const missing = r.aead ? (r.aead.alg.impl ? undefined : r.aead.alg.missing) : r.crypt!.alg.impl ? undefined : r.crypt!.alg.missing;
  const authMissing = r.auth && !r.auth.alg.mac ? r.auth.alg.missing : undefined;

  const header = (seq: number): Buffer => Buffer.concat([be32(spi), be32(seq)]);
  /** AEAD associated data: SPI, (ESN high bits,) sequence number. */
  const aad = (seq: number, seqHi: number): Buffer => (esn ? Buffer.concat([be32(spi), be32(seqHi), be32(seq)]) : header(seq));
  const macOf = (authed: Buffer, seqHi: number): Buffer => {
    const a = r.auth!;
    if (!a.alg.mac) throw new EspError('unsupported', `${a.alg.name}: ${authMissing ?? 'no implementation'}`);
    const full = a.alg.mac(a.key, esn ? Buffer.concat([authed, be32(seqHi)]) : authed);
    if (a.icvLen > full.length) throw new RangeError(`${a.alg.name}: ICV of ${a.icvLen} bytes is longer than its ${full.length}-byte digest`);
    return full.subarray(0, a.icvLen);
  };
  const nonce = (iv: Buffer): Buffer => Buffer.concat([r.aead!.salt, iv]);

  function parts(esp: Uint8Array): { seq: number; iv: Buffer; body: Buffer; icv: Buffer; authed: Buffer } {
    const b = Buffer.from(esp.buffer, esp.byteOffset, esp.byteLength);
    if (b.length < 8 + ivLen + icvLen) throw new EspError('length', `ESP of ${b.length} bytes is shorter than header, ${ivLen}-byte IV and ${icvLen}-byte ICV`);
    const gotSpi = b.readUInt32BE(0);
    if (gotSpi !== spi) throw new EspError('length', `ESP SPI 0x${gotSpi.toString(16)}, this transform is for 0x${spi.toString(16)}`);
    return {
      seq: b.readUInt32BE(4),
      iv: b.subarray(8, 8 + ivLen),
      body: b.subarray(8 + ivLen, b.length - icvLen),
      icv: b.subarray(b.length - icvLen),
      authed: b.subarray(0, b.length - icvLen),
    };
  }

  const t: EspTransform = {
    spi, ivLen, icvLen, align, esn, missing: missing ?? authMissing,
    padding: (n) => defaultPadding(n, align),
    wireLength: (n) => 8 + ivLen + n + defaultPadding(n, align).length + 2 + icvLen,
    seal(input) {
      if (t.missing) throw new EspError('unsupported', t.missing);
      const seqHi = input.seqHi ?? 0;
      const iv = Buffer.from(input.iv ?? randomBytes(ivLen));
      if (iv.length !== ivLen) throw new RangeError(`IV of ${iv.length} bytes, this transform uses ${ivLen}`);
      const padding = input.padding ?? defaultPadding(input.payload.length, align);
      const plain = trailer(input.payload, padding, input.padLen ?? padding.length, input.nextHeader);
      if (r.aead) {
        const { alg, key } = r.aead;
        if (alg.authOnly) {
          const { tag } = alg.impl!.seal(key, nonce(iv), Buffer.concat([aad(input.seq, seqHi), iv, plain]), Buffer.alloc(0), icvLen);
          return Buffer.concat([header(input.seq), iv, plain, tag]);
        }
        const { ciphertext, tag } = alg.impl!.seal(key, nonce(iv), aad(input.seq, seqHi), plain, icvLen);
        return Buffer.concat([header(input.seq), iv, ciphertext, tag]);
      }
      const c = r.crypt!;
      if (plain.length % c.alg.blockSize !== 0) throw new RangeError(`${c.alg.name}: ${plain.length} bytes of plaintext is not a whole number of ${c.alg.blockSize}-byte blocks`);
      const authed = Buffer.concat([header(input.seq), iv, c.alg.impl!.encrypt(c.key, iv, plain)]);
      return r.auth ? Buffer.concat([authed, macOf(authed, seqHi)]) : authed;
    },
    checkIcv(esp, opts = {}) {
      const p = parts(esp);
      if (r.aead) {
        t.open(esp, opts);
        return;
      }
      if (!r.auth) return;
      const want = macOf(p.authed, opts.seqHi ?? 0);
      if (!want.equals(p.icv)) throw new EspError('icv', `ICV mismatch for SPI 0x${spi.toString(16)} seq ${p.seq}: got ${p.icv.toString('hex')}, computed ${want.toString('hex')}`);
    },
    open(esp, opts = {}) {
      if (t.missing) throw new EspError('unsupported', t.missing);
      const p = parts(esp);
      const seqHi = opts.seqHi ?? 0;
      let plain: Buffer;
      if (r.aead) {
        const { alg, key } = r.aead;
        try {
          if (alg.authOnly) {
            alg.impl!.open(key, nonce(p.iv), Buffer.concat([aad(p.seq, seqHi), p.iv, p.body]), Buffer.alloc(0), p.icv);
            plain = Buffer.from(p.body);
          } else {
            plain = alg.impl!.open(key, nonce(p.iv), aad(p.seq, seqHi), p.body, p.icv);
          }
        } catch (e) {
          throw new EspError('icv', `${alg.name}: authentication failed for SPI 0x${spi.toString(16)} seq ${p.seq} (${(e as Error).message})`);
        }
      } else {
        t.checkIcv(esp, opts);
        const c = r.crypt!;
        if (p.body.length % c.alg.blockSize !== 0) throw new EspError('length', `${c.alg.name}: ciphertext of ${p.body.length} bytes is not a whole number of ${c.alg.blockSize}-byte blocks`);
        plain = c.alg.impl!.decrypt(c.key, p.iv, p.body);
      }
      return { spi, seq: p.seq, iv: Buffer.from(p.iv), icv: Buffer.from(p.icv), ...splitTrailer(plain) };
    },
  };
  return t;
}
