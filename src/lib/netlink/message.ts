// Netlink messages (struct nlmsghdr, include/uapi/linux/netlink.h): 16-byte header, payload,
// 4-byte alignment between messages; NLMSG_ERROR payloads with extended-ack TLVs.
import { errnoName } from '../sys/errno.js';
import { align4, attrSet } from './attr.js';
import { NLMSG, NLMSGERR_ATTR, NLMSG_HDRLEN, NLM_F } from '../include/uapi/linux/netlink.js';

export { NLMSG_HDRLEN };

export interface NlHeader {
  type: number;
  flags: number;
  seq: number;
  pid: number;
}

export interface NlMessage extends NlHeader {
  /** Everything after the 16-byte header, up to nlmsg_len. */
  payload: Buffer;
}

export function encodeMessage(h: NlHeader, payload: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.concat(payload);
  const len = NLMSG_HDRLEN + body.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(h.type, 4);
  out.writeUInt16LE(h.flags, 6);
  out.writeUInt32LE(h.seq >>> 0, 8);
  out.writeUInt32LE(h.pid >>> 0, 12);
  body.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Split one datagram into messages. */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new RangeError(`malformed netlink message at ${off}: len ${len}`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Decoded NLMSG_ERROR (an ACK when errno is 0). */
export interface NlAck {
  /** Positive errno; 0 for a plain ACK. */
  errno: number;
  /** Errno name ('EEXIST'), or 'OK' for an ACK. */
  code: string;
  /** The header of the request this answers. */
  request: NlHeader & { len: number };
  /** NLMSGERR_ATTR_MSG: the kernel's human-readable reason. */
  extack?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the request (from its nlmsghdr). */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing. */
  missingType?: number;
  cookie?: Buffer;
}

export function parseAck(msg: NlMessage): NlAck {
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new RangeError(`short NLMSG_ERROR payload (${p.length} bytes)`);
  const err = p.readInt32LE(0);
  const request = {
    len: p.readUInt32LE(4),
    type: p.readUInt16LE(8),
    flags: p.readUInt16LE(10),
    seq: p.readUInt32LE(12),
    pid: p.readUInt32LE(16),
  };
  const errno = -err;
  const ack: NlAck = { errno, code: errno === 0 ? 'OK' : errnoName(errno), request };
  if ((msg.flags & NLM_F.ACK_TLVS) === 0) return ack;
  // Without NLM_F_CAPPED the whole request is echoed between the header and the TLVs.
  let off = 4 + NLMSG_HDRLEN;
  if ((msg.flags & NLM_F.CAPPED) === 0) off += align4(Math.max(request.len, NLMSG_HDRLEN) - NLMSG_HDRLEN);
  if (off > p.length) return ack;
  const t = attrSet(p, off);
  const text = t.str(NLMSGERR_ATTR.MSG);
  if (text !== undefined) ack.extack = text;
  const offs = t.u32(NLMSGERR_ATTR.OFFS);
  if (offs !== undefined) ack.offset = offs;
  const miss = t.u32(NLMSGERR_ATTR.MISS_TYPE);
  if (miss !== undefined) ack.missingType = miss;
  const cookie = t.get(NLMSGERR_ATTR.COOKIE);
  if (cookie !== undefined) ack.cookie = Buffer.from(cookie);
  return ack;
}

export const isControl = (m: NlMessage): boolean => m.type < NLMSG.MIN_TYPE;
