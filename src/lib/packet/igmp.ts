/** IGMP v1 (RFC 1112), v2 (RFC 2236) and v3 (RFC 3376). */
import { IGMP_HOST_MEMBERSHIP_QUERY, IGMPV3_HOST_MEMBERSHIP_REPORT } from '../include/uapi/linux/igmp.js';
import { readIpv4, writeIpv4 } from '../addr.js';
import { checkFields } from './check-fields.js';

/** An IGMPv3 group record (RFC 3376 §4.2.4). */
export interface IgmpRecord {
  /** IGMPV3_MODE_IS_INCLUDE ... IGMPV3_BLOCK_OLD_SOURCES. */
  recordType: number;
  /** Auxiliary data length in 32-bit words; computed when absent. */
  auxLen?: number;
  /** Number of sources; computed when absent. */
  nSources?: number;
  group: string;
  sources: string[];
  aux?: Uint8Array;
}

/**
 * An IGMP message as one flat layer; which fields are used depends on igmpType.
 * Query 0x11: code (max response time/code), group; an IGMPv3 query (12+ bytes) also has resv
 * (4 bits), sFlag, qrv, qqic, nSources, sources (present when `sources` is set).
 * v1 report 0x12, v2 report 0x16, leave 0x17: code (0 in reports), group.
 * v3 report 0x22: code (reserved byte), reserved (16 bits), nRecords, records.
 */
export interface Igmp {
  type: 'igmp';
  /** IGMP_* / IGMPV2_* / IGMPV3_* message type. */
  igmpType: number;
  /** Queries: max response time (v2, tenths of a second) or code (v3); v1 queries and reports: 0. */
  code: number;
  /** Computed when absent. */
  checksum?: number;
  /** Queries, v1/v2 reports and leaves: the group (0.0.0.0 in a general query). */
  group?: string;
  /** v3 query: the 4 reserved bits. */
  resv?: number;
  /** v3 query: suppress router-side processing. */
  sFlag?: boolean;
  /** v3 query: querier's robustness variable. */
  qrv?: number;
  /** v3 query: querier's query interval code. */
  qqic?: number;
  /** v3 query: number of sources; computed when absent. */
  nSources?: number;
  /** v3 query: the sources. */
  sources?: string[];
  /** v3 report: the 16 reserved bits after the checksum. */
  reserved?: number;
  /** v3 report: number of records; computed when absent. */
  nRecords?: number;
  /** v3 report: the group records. */
  records?: IgmpRecord[];
}

export function igmp(f: Partial<Omit<Igmp, 'type'>> = {}): Igmp {
  checkFields('igmp', f);
  const igmpType = f.igmpType ?? IGMP_HOST_MEMBERSHIP_QUERY;
  const l: Igmp = { type: 'igmp', igmpType, code: f.code ?? 0 };
  if (f.checksum !== undefined) l.checksum = f.checksum;
  if (igmpType === IGMPV3_HOST_MEMBERSHIP_REPORT) {
    l.reserved = f.reserved ?? 0;
    if (f.nRecords !== undefined) l.nRecords = f.nRecords;
    l.records = (f.records ?? []).map((r) => ({ ...r, sources: [...r.sources] }));
    return l;
  }
  l.group = f.group ?? '0.0.0.0';
  if (f.sources) {
    l.resv = f.resv ?? 0; l.sFlag = f.sFlag ?? false; l.qrv = f.qrv ?? 0; l.qqic = f.qqic ?? 0;
    if (f.nSources !== undefined) l.nSources = f.nSources;
    l.sources = [...f.sources];
  }
  return l;
}

function recordLen(r: IgmpRecord): number {
  return 8 + 4 * r.sources.length + (r.aux?.length ?? 0);
}

export function igmpHeaderLen(l: Igmp): number {
  if (l.igmpType === IGMPV3_HOST_MEMBERSHIP_REPORT) return 8 + (l.records ?? []).reduce((n, r) => n + recordLen(r), 0);
  return l.sources ? 12 + 4 * l.sources.length : 8;
}

export function writeIgmpHeader(l: Igmp, buf: Buffer, off: number): void {
  buf[off] = l.igmpType;
  buf[off + 1] = l.code;
  buf.writeUInt16BE(l.checksum ?? 0, off + 2);
  if (l.igmpType === IGMPV3_HOST_MEMBERSHIP_REPORT) {
    const recs = l.records ?? [];
    buf.writeUInt16BE(l.reserved ?? 0, off + 4);
    buf.writeUInt16BE(l.nRecords ?? recs.length, off + 6);
    let p = off + 8;
    for (const r of recs) {
      buf[p] = r.recordType;
      buf[p + 1] = r.auxLen ?? (r.aux?.length ?? 0) / 4;
      buf.writeUInt16BE(r.nSources ?? r.sources.length, p + 2);
      writeIpv4(r.group, buf, p + 4);
      p += 8;
      for (const s of r.sources) { writeIpv4(s, buf, p); p += 4; }
      if (r.aux) { buf.set(r.aux, p); p += r.aux.length; }
    }
    return;
  }
  writeIpv4(l.group ?? '0.0.0.0', buf, off + 4);
  if (l.sources) {
    buf[off + 8] = (((l.resv ?? 0) & 0xf) << 4) | (l.sFlag ? 8 : 0) | ((l.qrv ?? 0) & 7);
    buf[off + 9] = l.qqic ?? 0;
    buf.writeUInt16BE(l.nSources ?? l.sources.length, off + 10);
    l.sources.forEach((a, i) => writeIpv4(a, buf, off + 12 + 4 * i));
  }
}

/** Decodes an IGMP message; v3 records run to `end`. */
export function readIgmpHeader(buf: Buffer, off: number, end: number): { layer: Igmp; hlen: number } | undefined {
  if (end - off < 8) return undefined;
  const igmpType = buf[off]!;
  const l: Igmp = { type: 'igmp', igmpType, code: buf[off + 1]!, checksum: buf.readUInt16BE(off + 2) };
  if (igmpType === IGMPV3_HOST_MEMBERSHIP_REPORT) {
    l.reserved = buf.readUInt16BE(off + 4); l.nRecords = buf.readUInt16BE(off + 6); l.records = [];
    let p = off + 8;
    for (let i = 0; i < l.nRecords; i++) {
      if (end - p < 8) break;
      const auxLen = buf[p + 1]!, nSources = buf.readUInt16BE(p + 2);
      const len = 8 + 4 * nSources + 4 * auxLen;
      if (end - p < len) break;
      const sources: string[] = [];
      for (let s = 0; s < nSources; s++) sources.push(readIpv4(buf, p + 8 + 4 * s));
      const r: IgmpRecord = { recordType: buf[p]!, auxLen, nSources, group: readIpv4(buf, p + 4), sources };
      if (auxLen > 0) r.aux = buf.subarray(p + 8 + 4 * nSources, p + len);
      l.records.push(r);
      p += len;
    }
    return { layer: l, hlen: p - off };
  }
  l.group = readIpv4(buf, off + 4);
  // RFC 3376 §7.1: a query of 12 or more bytes is an IGMPv3 query.
  if (igmpType === IGMP_HOST_MEMBERSHIP_QUERY && end - off >= 12) {
    const n = buf.readUInt16BE(off + 10);
    if (end - off < 12 + 4 * n) return { layer: l, hlen: 8 };
    l.resv = buf[off + 8]! >> 4; l.sFlag = (buf[off + 8]! & 8) !== 0; l.qrv = buf[off + 8]! & 7; l.qqic = buf[off + 9]!;
    l.nSources = n; l.sources = [];
    for (let i = 0; i < n; i++) l.sources.push(readIpv4(buf, off + 12 + 4 * i));
    return { layer: l, hlen: 12 + 4 * n };
  }
  return { layer: l, hlen: 8 };
}
