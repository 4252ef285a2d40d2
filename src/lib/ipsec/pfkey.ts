// PF_KEY v2 (RFC 2367, include/uapi/linux/pfkeyv2.h), just enough to ask the kernel which
// algorithms it offers: SADB_REGISTER answers with SADB_EXT_SUPPORTED_AUTH and _ENCRYPT, one
// struct sadb_alg per algorithm available (net/key/af_key.c compose_sadb_supported()).
import * as sys from '../sys/index.js';
import type { SadbAlg } from './algorithms.js';

/** include/linux/socket.h, include/uapi/linux/pfkeyv2.h */
export const PF_KEY = { AF_KEY: 15, PF_KEY_V2: 2, SADB_REGISTER: 7, SADB_SATYPE_AH: 2, SADB_SATYPE_ESP: 3, SADB_EXT_SUPPORTED_AUTH: 14, SADB_EXT_SUPPORTED_ENCRYPT: 15 } as const;
const SOCK_RAW = 3;

export interface SadbSupported {
  auth: SadbAlg[];
  encrypt: SadbAlg[];
}

/** Decodes a SADB_REGISTER answer (struct sadb_msg, then extensions, lengths in 8-byte units). */
export function parseSadbRegister(b: Buffer): SadbSupported {
  if (b.length < 16 || b[0] !== PF_KEY.PF_KEY_V2 || b[1] !== PF_KEY.SADB_REGISTER) throw new Error(`not a PF_KEY v2 SADB_REGISTER answer: ${b.subarray(0, 16).toString('hex')}`);
  if (b[2] !== 0) throw new Error(`SADB_REGISTER failed: errno ${b[2]}`);
  const out: SadbSupported = { auth: [], encrypt: [] };
  const end = Math.min(b.length, b.readUInt16LE(4) * 8);
  for (let off = 16; off + 4 <= end;) {
    const len = b.readUInt16LE(off) * 8;
    const type = b.readUInt16LE(off + 2);
    if (len < 8) break;
    const list = type === PF_KEY.SADB_EXT_SUPPORTED_AUTH ? out.auth : type === PF_KEY.SADB_EXT_SUPPORTED_ENCRYPT ? out.encrypt : null;
    for (let a = off + 8; list && a + 8 <= off + len; a += 8) {
      list.push({ id: b[a]!, ivLen: b[a + 1]!, minBits: b.readUInt16LE(a + 2), maxBits: b.readUInt16LE(a + 4) });
    }
    off += len;
  }
  return out;
}

/** Registers a PF_KEY socket for ESP (or AH) and returns the algorithms the kernel lists. */
export function sadbRegister(satype: 'esp' | 'ah' = 'esp'): SadbSupported {
  const fd = sys.socket(PF_KEY.AF_KEY, SOCK_RAW, PF_KEY.PF_KEY_V2);
  try {
    const msg = Buffer.alloc(16);
    msg[0] = PF_KEY.PF_KEY_V2;
    msg[1] = PF_KEY.SADB_REGISTER;
    msg[3] = satype === 'esp' ? PF_KEY.SADB_SATYPE_ESP : PF_KEY.SADB_SATYPE_AH;
    msg.writeUInt16LE(2, 4); // sadb_msg_len: 16 bytes in 8-byte units
    msg.writeUInt32LE(1, 8);
    msg.writeUInt32LE(process.pid, 12);
    sys.send(fd, msg);
    // The answer is also broadcast to registered sockets: ours is the first message.
    const [ready] = sys.poll([{ fd, events: 1 }], 2000);
    if (!ready) throw new Error('SADB_REGISTER: no answer within 2 s');
    return parseSadbRegister(sys.recv(fd, 65536));
  } finally {
    sys.close(fd);
  }
}
