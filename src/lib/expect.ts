// Packet expectations on a fixture network, packetdrill style: inject what the wire brings,
// expect what the kernel must send. Expected packets are layer stacks compared field by field
// (packet/compare.ts) with explicit don't-care fields; a stack that starts at the IP layer is
// compared with the frame's IP packet, and an injected one gets the router's Ethernet header.
import { AssertionError } from 'node:assert';
import type { Network } from './networks.js';
import {
  build,
  diff,
  ether,
  formatDiff,
  normalise,
  parse,
  show,
  summary,
  type FieldDiff,
  type Layer,
} from './packet/index.js';

export interface ExpectOptions {
  /** How long to wait for the packet (default 1000 ms). */
  timeoutMs?: number;
  /** Don't-care fields, as packet/compare.ts spells them: 'ipv4.id', 'tcp.window', '*.checksum'. */
  ignore?: readonly string[];
  /** Skip background traffic (MLD reports, router solicitations) while waiting (default true). */
  skipNoise?: boolean;
}

export interface NoneOptions {
  /** How long the wire must stay quiet (default 300 ms). */
  timeoutMs?: number;
  /** Only frames for which this is true count (default: every frame that is not noise). */
  match?: (p: Layer[]) => boolean;
  /** Background traffic (MLD reports, router solicitations) does not count (default true). */
  skipNoise?: boolean;
}

/** A frame that arrived, parsed from the Ethernet header. */
export interface Arrival {
  frame: Buffer;
  packet: Layer[];
}

// ICMPv6 types the kernel sends on its own schedule (include/uapi/linux/icmpv6.h):
// MLD query/report/done (130-132), MLDv2 report (143), router solicitation (133).
const NOISE_ICMPV6 = new Set([130, 131, 132, 133, 143]);

/** Background traffic no test asked for: MLD and router solicitations. */
export function isNoise(p: readonly Layer[]): boolean {
  for (const l of p) if (l.type === 'icmpv6') return NOISE_ICMPV6.has(l.icmpType);
  return false;
}

function startsWithEther(p: readonly Layer[]): boolean {
  return p[0]?.type === 'ether';
}

/** The bytes to compare against an expected stack: the whole frame, or its payload after Ethernet. */
function view(frame: Buffer, expected: readonly Layer[]): Buffer {
  return startsWithEther(expected) ? frame : frame.subarray(14);
}

/** Put a packet on the network's wire. IP-level stacks get Ethernet from the router to the guest. */
export function inject(net: Network, packet: readonly Layer[] | Uint8Array): void {
  if (packet instanceof Uint8Array) {
    net.write(packet);
    return;
  }
  const layers = startsWithEther(packet) ? packet : [ether({ src: net.router.mac, dst: net.mac }), ...packet];
  net.write(build(layers));
}

function describeArrivals(list: readonly Arrival[]): string {
  if (list.length === 0) return '  (nothing)';
  return list.map((a, i) => `  #${i + 1} ${summary(a.packet)}`).join('\n');
}

/** The arrival with the fewest differing fields, and those differences. */
function closest(list: readonly Arrival[], expected: readonly Layer[], ignore: readonly string[]): { a: Arrival; d: FieldDiff[] } | null {
  let best: { a: Arrival; d: FieldDiff[] } | null = null;
  for (const a of list) {
    let d: FieldDiff[];
    try {
      d = diff(view(a.frame, expected), expected, { ignore });
    } catch {
      continue;
    }
    // A frame of another shape (different layer types) is a poor candidate whatever its count.
    const shapeMiss = d.filter((x) => x.field === '').length;
    if (!best || shapeMiss * 100 + d.length < best.d.filter((x) => x.field === '').length * 100 + best.d.length) best = { a, d };
  }
  return best;
}

/**
 * Wait for a packet matching `expected` on the network; frames before it are consumed. Returns
 * the matching packet (parsed like `expected`: from Ethernet or from IP). On timeout, throws an
 * AssertionError that lists what arrived and diffs the closest candidate field by field.
 */
export function expectPacket(net: Network, expected: readonly Layer[], opts: ExpectOptions = {}): Layer[] {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const ignore = opts.ignore ?? [];
  const skipNoise = opts.skipNoise ?? true;
  const deadline = Date.now() + timeoutMs;
  const seen: Arrival[] = [];
  for (;;) {
    const frame = net.read(Math.max(0, deadline - Date.now()));
    if (frame === null) break;
    const packet = parse(frame, 'ether');
    if (skipNoise && isNoise(packet)) continue;
    const v = view(frame, expected);
    if (diff(v, expected, { ignore }).length === 0) return parse(v, startsWithEther(expected) ? 'ether' : 'ip');
    seen.push({ frame, packet });
  }
  const best = closest(seen, expected, ignore);
  const want = show(normalise(expected));
  let msg = `${net.ifname}: no packet matching the expectation within ${timeoutMs} ms\nexpected:\n${want}\narrived instead:\n${describeArrivals(seen)}`;
  if (best) msg += `\nclosest (#${seen.indexOf(best.a) + 1}) differs in:\n${formatDiff(best.d)}\n${show(parse(view(best.a.frame, expected), startsWithEther(expected) ? 'ether' : 'ip'))}`;
  throw new AssertionError({ message: msg, actual: best ? best.a.packet : null, expected, operator: 'expectPacket' });
}

/**
 * Wait for the first frame for which `pred` holds (e.g. "an ICMP echo request", when a test
 * needs the kernel-chosen fields before it can write the exact expectation). Throws like
 * expectPacket, listing what arrived.
 */
export function nextPacket(net: Network, pred: (p: Layer[]) => boolean, opts: { timeoutMs?: number; skipNoise?: boolean; what?: string } = {}): Arrival {
  const timeoutMs = opts.timeoutMs ?? 1000;
  const deadline = Date.now() + timeoutMs;
  const seen: Arrival[] = [];
  for (;;) {
    const frame = net.read(Math.max(0, deadline - Date.now()));
    if (frame === null) break;
    const packet = parse(frame, 'ether');
    if ((opts.skipNoise ?? true) && isNoise(packet)) continue;
    if (pred(packet)) return { frame, packet };
    seen.push({ frame, packet });
  }
  throw new AssertionError({
    message: `${net.ifname}: no ${opts.what ?? 'matching packet'} within ${timeoutMs} ms; arrived instead:\n${describeArrivals(seen)}`,
    actual: seen.map((a) => a.packet),
    expected: opts.what ?? 'matching packet',
    operator: 'nextPacket',
  });
}

/** Assert the wire stays quiet (noise aside) for timeoutMs. */
export function expectNone(net: Network, opts: NoneOptions = {}): void {
  const timeoutMs = opts.timeoutMs ?? 300;
  const got = readAll(net, { timeoutMs, skipNoise: opts.skipNoise ?? true }).filter((a) => !opts.match || opts.match(a.packet));
  if (got.length === 0) return;
  throw new AssertionError({
    message: `${net.ifname}: expected no packets for ${timeoutMs} ms, got ${got.length}:\n${describeArrivals(got)}\nfirst:\n${show(got[0]!.packet)}`,
    actual: got.map((a) => a.packet),
    expected: [],
    operator: 'expectNone',
  });
}

/** Every frame that arrives within timeoutMs (default 200 ms), parsed from Ethernet. */
export function readAll(net: Network, opts: { timeoutMs?: number; skipNoise?: boolean } = {}): Arrival[] {
  const deadline = Date.now() + (opts.timeoutMs ?? 200);
  const out: Arrival[] = [];
  for (;;) {
    const frame = net.read(Math.max(0, deadline - Date.now()));
    if (frame === null) return out;
    const packet = parse(frame, 'ether');
    if ((opts.skipNoise ?? false) && isNoise(packet)) continue;
    out.push({ frame, packet });
  }
}

/** Discard what is queued now (no waiting); returns how many frames. */
export function drain(net: Network): number {
  let n = 0;
  while (net.read(0) !== null) n++;
  return n;
}
