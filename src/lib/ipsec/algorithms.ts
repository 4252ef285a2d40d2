// The algorithms xfrm can name for ESP (net/xfrm/xfrm_algo.c, Linux 6.1), what the kernel's
// crypto accepts for each (key lengths, ICV lengths), the ESP layout they imply (IV length,
// padding alignment) and our own implementation of each with node:crypto. Where node:crypto has
// no implementation (Blowfish and CAST5 need OpenSSL's legacy provider, which a running Node
// cannot load; OpenSSL has no Serpent or Twofish) `missing` says so: ESP with such a cipher
// can still be checked for its layout and, with an authenticator, its ICV.
import { createCipheriv, createDecipheriv, createHash, createHmac, type CipherGCMTypes } from 'node:crypto';
import { aesCmac, aesXcbcMac } from './mac.js';

/** Key lengths in bytes the kernel's setkey accepts: a list, or every length in a range. */
export type KeyLens = { readonly list: readonly number[] } | { readonly min: number; readonly max: number };

export function keyLenOk(k: KeyLens, bytes: number): boolean {
  return 'list' in k ? k.list.includes(bytes) : bytes >= k.min && bytes <= k.max;
}

/** PF_KEY's description (struct sadb_alg, include/uapi/linux/pfkeyv2.h ids), where xfrm_algo.c has one. */
export interface SadbAlg {
  id: number;
  ivLen: number;
  minBits: number;
  maxBits: number;
}

interface Common {
  /** The name xfrm takes (xfrm_algo.alg_name). */
  readonly name: string;
  readonly keyLens: KeyLens;
  readonly sadb?: SadbAlg;
  /** Why node:crypto cannot run it; absent when it can. */
  readonly missing?: string;
}

export interface CipherImpl {
  encrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer;
  decrypt(key: Buffer, iv: Buffer, data: Buffer): Buffer;
}

export interface CryptAlgorithm extends Common {
  readonly kind: 'crypt';
  /** crypto_aead_blocksize(): ESP pads to a multiple of ALIGN(blockSize, 4). */
  readonly blockSize: number;
  readonly ivLen: number;
  readonly impl?: CipherImpl;
}

export interface AuthAlgorithm extends Common {
  readonly kind: 'auth';
  /** Digest size; XFRMA_ALG_AUTH_TRUNC may not ask for more. */
  readonly fullBits: number;
  /** The ICV length of an SA added with XFRMA_ALG_AUTH (no truncation given). */
  readonly truncBits: number;
  /** HMAC's hash block size: keys longer than this are hashed first (RFC 2104). */
  readonly hashBlock?: number;
  readonly mac?: (key: Buffer, data: Buffer) => Buffer;
}

export interface AeadImpl {
  /** Returns ciphertext (same length as plaintext) and the tag (icvLen bytes). */
  seal(key: Buffer, nonce: Buffer, aad: Buffer, plaintext: Buffer, icvLen: number): { ciphertext: Buffer; tag: Buffer };
  /** Throws if the tag does not verify. */
  open(key: Buffer, nonce: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer;
}

export interface AeadAlgorithm extends Common {
  readonly kind: 'aead';
  /** Bytes at the end of the xfrm key that are the nonce's salt, not cipher key. */
  readonly saltLen: number;
  readonly ivLen: number;
  readonly blockSize: number;
  /** ICV lengths in bits xfrm_aead_get_byname() knows for this name. */
  readonly icvBits: readonly number[];
  /** RFC 4543 (GMAC): authenticates the IV and payload as AAD and encrypts nothing. */
  readonly authOnly?: boolean;
  readonly impl?: AeadImpl;
}

export type Algorithm = CryptAlgorithm | AuthAlgorithm | AeadAlgorithm;

const AES = { list: [16, 24, 32] } as const;
/** HMAC takes a key of any length (one longer than the hash's block is hashed first). */
const ANY = { min: 0, max: Infinity } as const;
const HB64 = 64;
const withSalt = (salt: number): KeyLens => ({ list: AES.list.map((n) => n + salt) });

/** A CBC cipher through node:crypto, no padding (ESP pads). `name(key)` picks the OpenSSL name. */
function cbc(name: (key: Buffer) => string, keyMap: (key: Buffer) => Buffer = (k) => k): CipherImpl {
  const run = (enc: boolean, key: Buffer, iv: Buffer, data: Buffer): Buffer => {
    const c = enc ? createCipheriv(name(key), keyMap(key), iv) : createDecipheriv(name(key), keyMap(key), iv);
    c.setAutoPadding(false);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return { encrypt: (k, iv, d) => run(true, k, iv, d), decrypt: (k, iv, d) => run(false, k, iv, d) };
}

const aesBits = (k: Buffer): number => k.length * 8;

/** RFC 3686: counter block = nonce (last 4 key bytes) | IV | 1, big-endian 32-bit counter. */
const ctrAes: CipherImpl = (() => {
  const run = (key: Buffer, iv: Buffer, data: Buffer): Buffer => {
    const k = key.subarray(0, key.length - 4);
    const block = Buffer.concat([key.subarray(key.length - 4), iv, Buffer.from([0, 0, 0, 1])]);
    const c = createCipheriv(`aes-${aesBits(k)}-ctr`, k, block);
    return Buffer.concat([c.update(data), c.final()]);
  };
  return { encrypt: run, decrypt: run };
})();

const identity: CipherImpl = { encrypt: (_k, _iv, d) => Buffer.from(d), decrypt: (_k, _iv, d) => Buffer.from(d) };

/** Single DES is 3DES (EDE) with three equal keys: E_K(D_K(E_K(x))) = E_K(x). */
const desCbc = cbc(() => 'des-ede3-cbc', (k) => Buffer.concat([k, k, k]));

function gcmLike(cipher: (key: Buffer) => string): AeadImpl {
  return {
    seal(key, nonce, aad, plaintext, icvLen) {
      const c = createCipheriv(cipher(key) as CipherGCMTypes, key, nonce, { authTagLength: icvLen });
      c.setAAD(aad);
      const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
      return { ciphertext, tag: c.getAuthTag() };
    },
    open(key, nonce, aad, ciphertext, tag) {
      const d = createDecipheriv(cipher(key) as CipherGCMTypes, key, nonce, { authTagLength: tag.length });
      d.setAuthTag(tag);
      d.setAAD(aad);
      return Buffer.concat([d.update(ciphertext), d.final()]);
    },
  };
}

const gcm = gcmLike((k) => `aes-${aesBits(k)}-gcm`);
const chachaPoly = gcmLike(() => 'chacha20-poly1305');

const ccm: AeadImpl = {
  seal(key, nonce, aad, plaintext, icvLen) {
    const c = createCipheriv(`aes-${aesBits(key)}-ccm` as 'aes-128-ccm', key, nonce, { authTagLength: icvLen });
    c.setAAD(aad, { plaintextLength: plaintext.length });
    const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
    return { ciphertext, tag: c.getAuthTag() };
  },
  open(key, nonce, aad, ciphertext, tag) {
    const d = createDecipheriv(`aes-${aesBits(key)}-ccm` as 'aes-128-ccm', key, nonce, { authTagLength: tag.length });
    d.setAuthTag(tag);
    d.setAAD(aad, { plaintextLength: ciphertext.length });
    const out = d.update(ciphertext);
    d.final();
    return out;
  },
};

const hmac = (hash: string) => (key: Buffer, data: Buffer): Buffer => createHmac(hash, key).update(data).digest();

const NO_LEGACY = 'node:crypto has no %s: OpenSSL 3 keeps it in the legacy provider, which a running Node cannot load';
const NO_OPENSSL = 'node:crypto has no %s: OpenSSL does not implement it';

export const ALGORITHMS: readonly Algorithm[] = [
  // AEAD (xfrm_aead_list). Keys carry a salt at their end: 4 bytes for GCM, GMAC and ChaCha20, 3 for CCM.
  { kind: 'aead', name: 'rfc4106(gcm(aes))', keyLens: withSalt(4), saltLen: 4, ivLen: 8, blockSize: 1, icvBits: [64, 96, 128], impl: gcm,
    sadb: { id: 20, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'aead', name: 'rfc4309(ccm(aes))', keyLens: withSalt(3), saltLen: 3, ivLen: 8, blockSize: 1, icvBits: [64, 96, 128], impl: ccm,
    sadb: { id: 16, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'aead', name: 'rfc4543(gcm(aes))', keyLens: withSalt(4), saltLen: 4, ivLen: 8, blockSize: 1, icvBits: [128], impl: gcm, authOnly: true,
    sadb: { id: 23, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'aead', name: 'rfc7539esp(chacha20,poly1305)', keyLens: { list: [36] }, saltLen: 4, ivLen: 8, blockSize: 1, icvBits: [128], impl: chachaPoly },
  // Authentication (xfrm_aalg_list).
  { kind: 'auth', name: 'digest_null', keyLens: ANY, fullBits: 0, truncBits: 0, mac: () => Buffer.alloc(0),
    sadb: { id: 251, ivLen: 0, minBits: 0, maxBits: 0 } },
  { kind: 'auth', name: 'hmac(md5)', keyLens: ANY, hashBlock: HB64, fullBits: 128, truncBits: 96, mac: hmac('md5'),
    sadb: { id: 2, ivLen: 0, minBits: 128, maxBits: 128 } },
  { kind: 'auth', name: 'hmac(sha1)', keyLens: ANY, hashBlock: HB64, fullBits: 160, truncBits: 96, mac: hmac('sha1'),
    sadb: { id: 3, ivLen: 0, minBits: 160, maxBits: 160 } },
  { kind: 'auth', name: 'hmac(sha256)', keyLens: ANY, hashBlock: HB64, fullBits: 256, truncBits: 96, mac: hmac('sha256'),
    sadb: { id: 5, ivLen: 0, minBits: 256, maxBits: 256 } },
  { kind: 'auth', name: 'hmac(sha384)', keyLens: ANY, hashBlock: 128, fullBits: 384, truncBits: 192, mac: hmac('sha384'),
    sadb: { id: 6, ivLen: 0, minBits: 384, maxBits: 384 } },
  { kind: 'auth', name: 'hmac(sha512)', keyLens: ANY, hashBlock: 128, fullBits: 512, truncBits: 256, mac: hmac('sha512'),
    sadb: { id: 7, ivLen: 0, minBits: 512, maxBits: 512 } },
  { kind: 'auth', name: 'hmac(rmd160)', keyLens: ANY, hashBlock: HB64, fullBits: 160, truncBits: 96, mac: hmac('ripemd160'),
    sadb: { id: 8, ivLen: 0, minBits: 160, maxBits: 160 } },
  { kind: 'auth', name: 'xcbc(aes)', keyLens: AES, fullBits: 128, truncBits: 96, mac: aesXcbcMac,
    sadb: { id: 9, ivLen: 0, minBits: 128, maxBits: 128 } },
  { kind: 'auth', name: 'cmac(aes)', keyLens: AES, fullBits: 128, truncBits: 96, mac: aesCmac },
  { kind: 'auth', name: 'hmac(sm3)', keyLens: ANY, hashBlock: HB64, fullBits: 256, truncBits: 256, mac: hmac('sm3'),
    sadb: { id: 10, ivLen: 0, minBits: 256, maxBits: 256 } },
  // Encryption (xfrm_ealg_list).
  { kind: 'crypt', name: 'ecb(cipher_null)', keyLens: { list: [0] }, blockSize: 1, ivLen: 0, impl: identity,
    sadb: { id: 11, ivLen: 0, minBits: 0, maxBits: 0 } },
  { kind: 'crypt', name: 'cbc(des)', keyLens: { list: [8] }, blockSize: 8, ivLen: 8, impl: desCbc,
    sadb: { id: 2, ivLen: 8, minBits: 64, maxBits: 64 } },
  { kind: 'crypt', name: 'cbc(des3_ede)', keyLens: { list: [24] }, blockSize: 8, ivLen: 8, impl: cbc(() => 'des-ede3-cbc'),
    sadb: { id: 3, ivLen: 8, minBits: 192, maxBits: 192 } },
  { kind: 'crypt', name: 'cbc(cast5)', keyLens: { min: 5, max: 16 }, blockSize: 8, ivLen: 8, missing: NO_LEGACY.replace('%s', 'CAST5'),
    sadb: { id: 6, ivLen: 8, minBits: 40, maxBits: 128 } },
  { kind: 'crypt', name: 'cbc(blowfish)', keyLens: { min: 4, max: 56 }, blockSize: 8, ivLen: 8, missing: NO_LEGACY.replace('%s', 'Blowfish'),
    sadb: { id: 7, ivLen: 8, minBits: 40, maxBits: 448 } },
  { kind: 'crypt', name: 'cbc(aes)', keyLens: AES, blockSize: 16, ivLen: 16, impl: cbc((k) => `aes-${aesBits(k)}-cbc`),
    sadb: { id: 12, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'crypt', name: 'cbc(serpent)', keyLens: { min: 0, max: 32 }, blockSize: 16, ivLen: 16, missing: NO_OPENSSL.replace('%s', 'Serpent'),
    sadb: { id: 252, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'crypt', name: 'cbc(camellia)', keyLens: AES, blockSize: 16, ivLen: 16, impl: cbc((k) => `camellia-${aesBits(k)}-cbc`),
    sadb: { id: 22, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'crypt', name: 'cbc(twofish)', keyLens: AES, blockSize: 16, ivLen: 16, missing: NO_OPENSSL.replace('%s', 'Twofish'),
    sadb: { id: 253, ivLen: 8, minBits: 128, maxBits: 256 } },
  { kind: 'crypt', name: 'rfc3686(ctr(aes))', keyLens: withSalt(4), blockSize: 1, ivLen: 8, impl: ctrAes,
    sadb: { id: 13, ivLen: 8, minBits: 160, maxBits: 288 } },
  { kind: 'crypt', name: 'cbc(sm4)', keyLens: { list: [16] }, blockSize: 16, ivLen: 16, impl: cbc(() => 'sm4-cbc'),
    sadb: { id: 24, ivLen: 16, minBits: 128, maxBits: 256 } },
];

export function findAlgorithm<K extends Algorithm['kind']>(kind: K, name: string): Extract<Algorithm, { kind: K }> {
  const a = ALGORITHMS.find((x) => x.kind === kind && x.name === name);
  if (!a) throw new RangeError(`no ${kind} algorithm '${name}' in xfrm's list (known: ${ALGORITHMS.filter((x) => x.kind === kind).map((x) => x.name).join(', ')})`);
  return a as Extract<Algorithm, { kind: K }>;
}

/** A digest node:crypto has, by name (for checks that a hash exists before relying on it). */
export function hasHash(name: string): boolean {
  try {
    createHash(name);
    return true;
  } catch {
    return false;
  }
}
