// ESP on packets: seal a layer stack the way a peer would send it, and open what the kernel sent
// into a readable stack. A stack to seal holds one esp({ spi, seq }) layer; the layers after it
// are protected (transport mode: the transport header and payload; tunnel mode: the inner IP
// packet). A UDP layer before it makes ESP-in-UDP (RFC 3948).
//
//   const t = espTransform(sa);
//   inject(net, sealEsp([ipv4({ src, dst }), esp({ spi, seq: 1 }), udp({ sport, dport }), raw('hi')], t));
//   const { packet, esp } = openEsp(parse(frame.subarray(14), 'ip'), t);
//   assertMatch(packet, [ipv4({ src, dst }), esp({ spi, seq: 1, nullCipher: {} }), udp(...), raw('hi')], { ignore: ['esp.nullCipher'] });
import { build, ipProtoOf, parseProto, raw, type Esp, type Layer } from '../packet/index.js';
import { EspError, type EspOpened, type EspTransform, type SealInput } from './esp-transform.js';

const IPPROTO_NONE = 59;

export type SealOptions = Omit<SealInput, 'seq' | 'payload' | 'nextHeader'> & { nextHeader?: number };

/**
 * The stack with everything after its ESP layer encrypted by `t`: the result is the outer
 * layers, the ESP header and one raw layer (IV, ciphertext, ICV), ready for build() or inject().
 * The inner transport checksum uses the outer IP addresses (transport mode), as a peer's would.
 */
export function sealEsp(layers: readonly Layer[], t: EspTransform, opts: SealOptions = {}): Layer[] {
  const i = layers.findIndex((l) => l.type === 'esp');
  if (i < 0) throw new RangeError('sealEsp: the stack has no esp() layer');
  const e = layers[i] as Esp;
  if (e.spi >>> 0 !== t.spi) throw new RangeError(`sealEsp: esp layer SPI 0x${e.spi.toString(16)}, transform for 0x${t.spi.toString(16)}`);
  const outer = layers.slice(0, i);
  const inner = layers.slice(i + 1);
  // Plaintext with the checksums a sender computes: built under the IP layers only (no UDP encapsulation).
  const ipOuter = outer.filter((l) => l.type !== 'udp');
  const hdr = build(ipOuter).length;
  const plain = build([...ipOuter, { type: 'esp', spi: e.spi, seq: e.seq }, ...inner]).subarray(hdr + 8);
  const sealed = t.seal({ ...opts, seq: e.seq, payload: plain, nextHeader: opts.nextHeader ?? ipProtoOf(inner[0], IPPROTO_NONE) });
  return [...outer, { type: 'esp', spi: e.spi, seq: e.seq }, raw(sealed.subarray(8))];
}

export interface OpenedPacket {
  /**
   * The packet as if sent with a null cipher and no ICV: outer layers, the ESP layer with its
   * trailer (`nullCipher`: padding, pad length, next header), then the decoded inner layers.
   * Outer length and checksum fields are left to be recomputed: they described the encrypted
   * packet, and openEsp() has checked them against the bytes it was given.
   */
  packet: Layer[];
  esp: EspOpened;
}

/** Fields of the outer layers that described the ciphertext, checked here and then cleared. */
function clearOuter(l: Layer): Layer {
  switch (l.type) {
    case 'ipv4': return { ...l, len: undefined, checksum: undefined };
    case 'ipv6': return { ...l, plen: undefined };
    case 'udp': return { ...l, len: undefined, checksum: undefined };
    default: return l;
  }
}

/** Outer IP length fields must count exactly the bytes that follow; an IPv4 header checksum must verify. */
function checkOuter(p: readonly Layer[], upTo: number): void {
  for (let k = 0; k < upTo; k++) {
    const l = p[k]!;
    if (l.type !== 'ipv4' && l.type !== 'ipv6') continue;
    const total = build(p.slice(k)).length;
    const got = l.type === 'ipv4' ? l.len : l.plen;
    const want = l.type === 'ipv4' ? total : total - 40;
    if (got !== want) throw new EspError('length', `openEsp: outer ${l.type} length field ${String(got)}, but ${want} bytes follow`);
    if (l.type === 'ipv4') {
      const sum = build([{ ...l, checksum: undefined }]).readUInt16BE(10);
      if (sum !== l.checksum) throw new EspError('length', `openEsp: outer IPv4 header checksum 0x${(l.checksum ?? 0).toString(16)}, should be 0x${sum.toString(16)}`);
    }
  }
}

/** The index of the ESP header: an esp layer, or the raw payload of ESP-in-UDP (non-zero SPI). */
function espBytesOf(p: readonly Layer[]): { at: number; bytes: Buffer } {
  const i = p.findIndex((l) => l.type === 'esp');
  if (i >= 0) {
    const e = p[i] as Esp;
    const body = p[i + 1];
    const head = Buffer.alloc(8);
    head.writeUInt32BE(e.spi >>> 0, 0);
    head.writeUInt32BE(e.seq >>> 0, 4);
    return { at: i, bytes: Buffer.concat([head, body?.type === 'raw' ? body.data : Buffer.alloc(0)]) };
  }
  const u = p.findIndex((l) => l.type === 'udp');
  const body = p[u + 1];
  if (u >= 0 && body?.type === 'raw' && body.data.length >= 8 && Buffer.from(body.data.subarray(0, 4)).readUInt32BE(0) !== 0) {
    return { at: u + 1, bytes: Buffer.from(body.data) };
  }
  throw new EspError('length', 'openEsp: the packet has no ESP header');
}

/**
 * Decrypts and authenticates the ESP in a parsed packet (from the IP layer or the Ethernet
 * layer). Throws EspError when the ICV does not verify or the trailer is inconsistent.
 */
export function openEsp(p: readonly Layer[], t: EspTransform, opts: { seqHi?: number } = {}): OpenedPacket {
  // The wire lengths must hold exactly the bytes given: no trailing padding layer.
  const pad = p.find((l) => l.type === 'padding');
  if (pad) throw new EspError('length', `openEsp: ${pad.type === 'padding' ? pad.data.length : 0} bytes beyond the outer length field`);
  const { at, bytes } = espBytesOf(p);
  checkOuter(p, at);
  const o = t.open(bytes, opts);
  const e: Esp = { type: 'esp', spi: o.spi, seq: o.seq, nullCipher: { padding: o.padding, padLen: o.padLen, nh: o.nextHeader, icv: new Uint8Array(0) } };
  const inner = o.nextHeader === IPPROTO_NONE ? [] : parseProto(o.payload, o.nextHeader);
  if (o.nextHeader === IPPROTO_NONE && o.payload.length) inner.push(raw(o.payload));
  return { packet: [...p.slice(0, at).map(clearOuter), e, ...inner], esp: o };
}
