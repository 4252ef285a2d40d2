/** Classic pcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html) for Wireshark/tcpdump. */
import { closeSync, openSync, writeSync } from 'node:fs';

// https://www.tcpdump.org/linktypes.html
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export interface PcapRecord {
  data: Uint8Array;
  /** Capture time in microseconds since the epoch; default now. */
  timeUs?: number;
  /** Original length if more than data was on the wire. */
  origLen?: number;
}

export interface PcapFile {
  linktype: number;
  snaplen: number;
  records: Array<Required<PcapRecord>>;
}

export function pcapHeader(linktype: number, snaplen = 262144): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(MAGIC_US, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

export function pcapRecord(r: PcapRecord): Buffer {
  const t = r.timeUs ?? Date.now() * 1000;
  const h = Buffer.alloc(16 + r.data.length);
  h.writeUInt32LE(Math.floor(t / 1e6), 0);
  h.writeUInt32LE(Math.floor(t % 1e6), 4);
  h.writeUInt32LE(r.data.length, 8);
  h.writeUInt32LE(r.origLen ?? r.data.length, 12);
  h.set(r.data, 16);
  return h;
}

/** A whole file in memory. */
export function writePcap(records: readonly PcapRecord[], linktype = LINKTYPE_ETHERNET): Buffer {
  return Buffer.concat([pcapHeader(linktype), ...records.map(pcapRecord)]);
}

/** Reads either byte order and micro- or nanosecond files; stops quietly at a truncated record. */
export function readPcap(bytes: Uint8Array): PcapFile | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 24) return undefined;
  let le: boolean, ns: boolean;
  const m = b.readUInt32LE(0);
  if (m === MAGIC_US || m === MAGIC_NS) { le = true; ns = m === MAGIC_NS; } else {
    const mb = b.readUInt32BE(0);
    if (mb !== MAGIC_US && mb !== MAGIC_NS) return undefined;
    le = false; ns = mb === MAGIC_NS;
  }
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: PcapFile = { snaplen: u32(16), linktype: u32(20) & 0xffff, records: [] };
  let p = 24;
  while (p + 16 <= b.length) {
    const incl = u32(p + 8);
    if (p + 16 + incl > b.length) break;
    const frac = u32(p + 4);
    out.records.push({ timeUs: u32(p) * 1e6 + (ns ? Math.floor(frac / 1000) : frac), origLen: u32(p + 12), data: b.subarray(p + 16, p + 16 + incl) });
    p += 16 + incl;
  }
  return out;
}

export interface PcapWriter {
  write(data: Uint8Array, timeUs?: number): void;
  close(): void;
}

/** Appends records to a file as they come (synchronously, so a crash loses nothing written). */
export function openPcap(path: string, linktype = LINKTYPE_ETHERNET): PcapWriter {
  const fd = openSync(path, 'w');
  writeSync(fd, pcapHeader(linktype));
  let open = true;
  return {
    write(data, timeUs) {
      const r: PcapRecord = { data };
      if (timeUs !== undefined) r.timeUs = timeUs;
      writeSync(fd, pcapRecord(r));
    },
    close() { if (open) { open = false; closeSync(fd); } },
  };
}
