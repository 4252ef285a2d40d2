// Router solicitation retransmission back-off (RFC 7559, net/ipv6/addrconf.c): after the first
// RS the interval starts at router_solicitation_interval × [0.9, 1.1]
// (rfc3315_s14_backoff_init) and each retransmission multiplies it by [1.9, 2.1]; a value above
// router_solicitation_max_interval is replaced by that maximum × [0.9, 1.1]
// (rfc3315_s14_backoff_update). addrconf_rs_timer sends router_solicitations RSes in all and
// stops early once an RA has arrived after an RS (IF_RA_RCVD).
//
// Timing bounds: the kernel's randomised range, widened by what UML adds. UML runs at HZ=100
// (arch/um/Kconfig); the RS timer is a timer-wheel timer, and delays of 63..503 jiffies sit in
// wheel level 1, whose 8-jiffy granularity makes it fire up to 80 ms late and never early; the
// jiffy the timer was armed in costs up to 10 ms either way; reading the tap adds scheduling
// jitter to both ends of a gap (SLACK). The ranges of consecutive gaps still do not overlap.
//
// The file takes about 12 s: 1 + 2 + 3 s of back-off and a 3.6 s silence window, plus 1.6 s for
// the RA case.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { useNetworks, routerAdvertisement, type Network } from '../src/lib/networks.js';
import { inject } from '../src/lib/expect.js';
import { diff, ether, ipv6, ndOpt, parse, routerSolicit, type Layer } from '../src/lib/packet/index.js';

const nets = useNetworks({ count: 2 });

const RS_COUNT = 4;
const INTERVAL_S = 1;
const MAX_INTERVAL_S = 3;
/** Timer-wheel lateness (level 1: 8 jiffies at HZ=100) plus one jiffy. */
const TIMER_LATE_MS = 90;
const JIFFY_MS = 10;
/** Delivery jitter between the kernel sending an RS and this process reading it. */
const SLACK_MS = 150;

/** Milliseconds range of the n-th gap (1-based) between RSes, from the kernel's formulas. */
function gapRange(n: number): [number, number] {
  // rt_1 = irt × [0.9, 1.1]; rt_k+1 = rt_k × [1.9, 2.1], or mrt × [0.9, 1.1] when above mrt.
  let lo = INTERVAL_S * 0.9;
  let hi = INTERVAL_S * 1.1;
  for (let k = 1; k < n; k++) {
    lo = lo * 1.9 > MAX_INTERVAL_S ? MAX_INTERVAL_S * 0.9 : lo * 1.9;
    hi = hi * 2.1 > MAX_INTERVAL_S ? MAX_INTERVAL_S * 1.1 : hi * 2.1;
  }
  // A doubled value that may or may not cross the maximum spans both outcomes.
  return [lo * 1000 - JIFFY_MS - SLACK_MS, hi * 1000 + TIMER_LATE_MS + SLACK_MS];
}

function expectedRs(n: Network): Layer[] {
  return [ether({ src: n.mac, dst: '33:33:00:00:00:02' }), ipv6({ src: n.ll6, dst: 'ff02::2', hlim: 255 }), routerSolicit({ options: [ndOpt.srcLladdr(n.mac)] })];
}

/**
 * Read the network's wire for `ms` (or until `stopAfter` RSes), returning when each RS arrived
 * (ms, monotonic). Every RS must be the exact packet; other frames (MLD reports) are skipped.
 */
function recordRs(n: Network, ms: number, stopAfter = Infinity): number[] {
  const times: number[] = [];
  const deadline = performance.now() + ms;
  while (times.length < stopAfter) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const frame = n.read(left);
    if (frame === null) break;
    const at = performance.now();
    const p = parse(frame, 'ether');
    if (!p.some((l) => l.type === 'icmpv6' && l.icmpType === 133)) continue;
    assert.deepEqual(diff(frame, expectedRs(n)), [], 'every RS is the exact solicitation from the link-local with our MAC');
    times.push(at);
  }
  return times;
}

/** Solicit on this network from now on and bounce the link, which starts solicitation afresh. */
function bounce(n: Network, solicitations: number): void {
  const conf = `net/ipv6/conf/${n.ifname}`;
  nets.sysctl(`${conf}/router_solicitations`, solicitations);
  nets.sysctl(`${conf}/router_solicitation_interval`, INTERVAL_S);
  nets.sysctl(`${conf}/router_solicitation_max_interval`, MAX_INTERVAL_S);
  // No random delay before the first RS (addrconf_dad_kick), nor after the last one.
  nets.sysctl(`${conf}/router_solicitation_delay`, 0);
  // Down clears IF_RS_SENT/IF_RA_RCVD (addrconf_ifdown); up sends the first RS once the
  // link-local address is ready (no DAD in the fixture).
  n.tap.setUp(false);
  n.tap.setUp(true);
}

describe('router solicitation back-off (RFC 7559)', () => {
  nets.it(`router_solicitations=${RS_COUNT}, interval ${INTERVAL_S} s, max ${MAX_INTERVAL_S} s: exactly ${RS_COUNT} RSes, gaps ~1, ~2, then capped at ~3 s`, () => {
    const n = nets.net(1);
    bounce(n, RS_COUNT);
    const first = recordRs(n, 2000, 1);
    assert.equal(first.length, 1, 'the first RS within 2 s of link up');
    // The others within the sum of the gaps' upper bounds; then the wire must stay quiet for as
    // long as one more gap could last (gapRange(RS_COUNT)) after the last one.
    let window = 0;
    for (let k = 1; k < RS_COUNT; k++) window += gapRange(k)[1];
    const rest = recordRs(n, window, RS_COUNT - 1);
    const [, nextHi] = gapRange(RS_COUNT);
    const times = [...first, ...rest];
    assert.equal(times.length, RS_COUNT, `${RS_COUNT} RSes`);
    const silenceFrom = performance.now();
    const extra = recordRs(n, Math.max(0, times[RS_COUNT - 1]! + nextHi - silenceFrom));
    assert.deepEqual(extra, [], 'no RS after the last one');
    const gaps = times.slice(1).map((t, i) => Math.round(t - times[i]!));
    gaps.forEach((g, i) => {
      const [lo, hi] = gapRange(i + 1);
      assert.ok(g >= lo && g <= hi, `gap ${i + 1} is ${g} ms, want ${Math.round(lo)}..${Math.round(hi)} ms (all gaps: ${gaps.join(', ')} ms)`);
    });
    // The ranges grow (1 → 2 → 3 s, the last one capped by the maximum), so the gaps do too.
    for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! > gaps[i - 1]!, `gaps grow: ${gaps.join(', ')} ms`);
  });

  nets.it('an RA received after the first RS stops the solicitations', () => {
    const n = nets.net(2);
    bounce(n, RS_COUNT);
    assert.equal(recordRs(n, 2000, 1).length, 1, 'the first RS within 2 s of link up');
    inject(n, routerAdvertisement(n));
    // Without the RA the second RS would come within gapRange(1)[1] (see the case above).
    const [, hi] = gapRange(1);
    assert.deepEqual(recordRs(n, hi + 300), [], 'no RS after the RA');
  });
});
