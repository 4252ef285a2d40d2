// Block-cipher MACs node:crypto does not offer by name, built on its AES-ECB: AES-XCBC-MAC
// (RFC 3566, xfrm's "xcbc(aes)") and AES-CMAC (RFC 4493, "cmac(aes)"). Both return the full
// 16-byte MAC; ESP truncates it to the SA's ICV length.
import { createCipheriv } from 'node:crypto';

const BLOCK = 16;

function aesName(key: Uint8Array): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new RangeError(`AES key of ${key.length} bytes (16, 24 or 32)`);
  return `aes-${key.length * 8}-ecb`;
}

/** One AES block encryption (ECB, no padding). */
export function aesBlock(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv(aesName(key), key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function xorInto(dst: Buffer, a: Uint8Array, b: Uint8Array): Buffer {
  for (let i = 0; i < BLOCK; i++) dst[i] = a[i]! ^ b[i]!;
  return dst;
}

/** The CBC-MAC chain over `data` with the last block transformed by `last` (complete or padded). */
function cbcMac(key: Uint8Array, data: Uint8Array, kComplete: Uint8Array, kPadded: Uint8Array): Buffer {
  const n = Math.max(1, Math.ceil(data.length / BLOCK));
  const complete = data.length > 0 && data.length % BLOCK === 0;
  let e: Buffer = Buffer.alloc(BLOCK);
  const m = Buffer.alloc(BLOCK);
  for (let i = 0; i < n - 1; i++) e = aesBlock(key, xorInto(m, data.subarray(i * BLOCK, (i + 1) * BLOCK), e));
  const lastBlock = Buffer.alloc(BLOCK);
  const tail = data.subarray((n - 1) * BLOCK);
  lastBlock.set(tail);
  if (!complete) lastBlock[tail.length] = 0x80; // 10* padding
  xorInto(m, lastBlock, e);
  return aesBlock(key, xorInto(m, m, complete ? kComplete : kPadded));
}

/**
 * AES-XCBC-MAC (RFC 3566). K1, K2, K3 are the encryptions of 0x01.., 0x02.., 0x03.. under the
 * key; K1 (16 bytes) keys the chain. Linux's xcbc(aes) also takes 24- and 32-byte keys, deriving
 * the same three constants with them; so does this function.
 */
export function aesXcbcMac(key: Uint8Array, data: Uint8Array): Buffer {
  const k1 = aesBlock(key, Buffer.alloc(BLOCK, 1));
  const k2 = aesBlock(key, Buffer.alloc(BLOCK, 2));
  const k3 = aesBlock(key, Buffer.alloc(BLOCK, 3));
  return cbcMac(k1, data, k2, k3);
}

/** Doubling in GF(2^128) with the CMAC polynomial (RFC 4493 §2.3, Rb = 0x87). */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((b[i]! << 1) | (i + 1 < BLOCK ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[BLOCK - 1] = out[BLOCK - 1]! ^ 0x87;
  return out;
}

/** AES-CMAC (RFC 4493) with a 16-, 24- or 32-byte key. */
export function aesCmac(key: Uint8Array, data: Uint8Array): Buffer {
  const l = aesBlock(key, Buffer.alloc(BLOCK));
  const k1 = dbl(l);
  const k2 = dbl(k1);
  return cbcMac(key, data, k1, k2);
}
