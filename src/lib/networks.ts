// The multi-network fixture: N simulated networks, each a tap interface whose wire end the test
// holds. Every network has its own router (MAC, link-local address), an IPv6 prefix the kernel
// learns by SLAAC from a router advertisement we inject, an IPv4 subnet with a permanent
// neighbour entry for the router, its own routing table, and policy rules that select it by
// fwmark, uid range and output interface, above an unreachable rule: traffic that selects no
// network goes nowhere.
//
//   const nets = useNetworks();             // registers before/after hooks on the test file
//   nets.it('pings out on net 2', () => {   // on failure: one pcap per network in the run dir
//     const n = nets.net(2);
//     ...
//   });
import { after, before, it, type TestContext } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eui64Address, linkLocalAddress } from './addr.js';
import { enterNewNetns } from './netns.js';
import { openRoute, type Rtnl, type RuleSpec } from './netlink/route.js';
import { build, ether, ipv6, ndOpt, routerAdvert, writePcap, type NdOption } from './packet/index.js';
import { udpSocket } from './socket.js';
import { sysctl } from './sysctl.js';
import { openTap, type TunDevice, type TunOptions } from './tun.js';

/** A frame seen on a network's wire, in either direction, for the pcap. */
export interface CapturedFrame {
  dir: 'in' | 'out';
  data: Buffer;
  timeUs: number;
}

export interface Network {
  /** 1-based network number; also its fwmark. */
  readonly id: number;
  readonly ifname: string;
  readonly ifindex: number;
  /** The wire end: frames the kernel sent are read here, frames written here are received. */
  readonly tap: TunDevice;
  /** MAC address of the guest's interface. */
  readonly mac: string;
  readonly router: { readonly mac: string; readonly ll: string; readonly ip4: string; readonly ip6: string };
  /** '2001:db8:N::/64', advertised by the router. */
  readonly prefix6: string;
  /** The guest's SLAAC address in prefix6. */
  readonly addr6: string;
  /** The guest's link-local address on this network. */
  readonly ll6: string;
  /** The IPv4 subnet ('198.51.100.64/26') and the guest's address in it. */
  readonly subnet4: string;
  readonly addr4: string;
  readonly prefixLen4: number;
  /** Routing table, fwmark and uid that select this network. */
  readonly table: number;
  readonly mark: number;
  readonly uid: number;
  /** Frames in both directions since the current test started. */
  readonly captured: CapturedFrame[];
  /** Write a frame onto the wire (the kernel receives it); recorded for the pcap. */
  write(frame: Uint8Array): void;
  /** Read one frame the kernel sent, or null after timeoutMs; recorded for the pcap. */
  read(timeoutMs: number): Buffer | null;
}

export interface NetworksOptions {
  /** Number of networks, 1..8 (default 4). */
  count?: number;
  /** Keep duplicate address detection on (default off: addresses are usable at once). */
  dad?: boolean;
  /** Unshare a fresh network namespace for the file (default true). */
  freshNetns?: boolean;
  /**
   * Offload options for every network's tap (default none: plain frames, no offloads):
   * a virtio_net_hdr (tap.readVnet/writeVnet; Network.read/write hide it), TUN_F_* offloads, NAPI.
   */
  tap?: Pick<TunOptions, 'vnetHdr' | 'vnetHdrSize' | 'offload' | 'napi'>;
}

/** Remote (off-link) targets reachable through every network's router. */
export const REMOTE4 = '203.0.113.1';
export const REMOTE6 = '2001:db8:ff::1';

/** Rule priorities: all mark rules, then uid rules, then oif rules, then the catch-all. */
export const PRIO_MARK = 100;
export const PRIO_UID = 200;
export const PRIO_OIF = 300;
export const PRIO_UNREACHABLE = 32000;
export const TABLE_BASE = 100;
export const UID_BASE = 20000;

const MAX_CAPTURE = 4096;

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** IPv4 plan: networks 1-4 split 198.51.100.0/24, 5-8 split 192.0.2.0/24, in /26 blocks. */
function v4Plan(id: number): { subnet: string; router: string; host: string } {
  const base = id <= 4 ? '198.51.100' : '192.0.2';
  const off = ((id - 1) % 4) * 64;
  return { subnet: `${base}.${off}/26`, router: `${base}.${off + 1}`, host: `${base}.${off + 2}` };
}

function makeNetwork(id: number, tap: TunDevice, mac: string, addr6: string): Network {
  const v4 = v4Plan(id);
  const captured: CapturedFrame[] = [];
  const record = (dir: 'in' | 'out', data: Uint8Array): void => {
    if (captured.length >= MAX_CAPTURE) captured.shift();
    captured.push({ dir, data: Buffer.from(data), timeUs: Date.now() * 1000 });
  };
  return {
    id,
    ifname: tap.name,
    ifindex: tap.ifindex,
    tap,
    mac,
    router: { mac: `02:00:00:00:${id.toString(16).padStart(2, '0')}:fe`, ll: `fe80::${id}`, ip4: v4.router, ip6: `2001:db8:${id}::1` },
    prefix6: `2001:db8:${id}::/64`,
    addr6,
    ll6: linkLocalAddress(mac),
    subnet4: v4.subnet,
    addr4: v4.host,
    prefixLen4: 26,
    table: TABLE_BASE + id,
    mark: id,
    uid: UID_BASE + id,
    captured,
    write(frame) {
      record('in', frame);
      tap.write(frame);
    },
    read(timeoutMs) {
      const f = tap.read({ timeoutMs });
      if (f) record('out', f);
      return f;
    },
  };
}

/** The router advertisement that gives a network its prefix (SLAAC, on-link, autonomous). */
export function routerAdvertisement(n: Pick<Network, 'router' | 'prefix6'>, extra: { routerLifetime?: number; options?: NdOption[] } = {}): Buffer {
  return build([
    ether({ src: n.router.mac, dst: '33:33:00:00:00:01' }),
    ipv6({ src: n.router.ll, dst: 'ff02::1', hlim: 255 }),
    routerAdvert({
      curHopLimit: 64,
      routerLifetime: extra.routerLifetime ?? 1800,
      options: [ndOpt.srcLladdr(n.router.mac), ndOpt.prefixInfo({ prefix: n.prefix6.split('/')[0]!, prefixLen: 64 }), ...(extra.options ?? [])],
    }),
  ]);
}

export interface Networks {
  /** The rtnetlink handle opened inside the fixture's namespace. */
  readonly rt: Rtnl;
  readonly all: readonly Network[];
  /** Network by 1-based id. */
  net(id: number): Network;
  /** Set a sysctl for the rest of the file (restored at teardown). */
  sysctl(name: string, value: string | number): void;
  /** Add a policy rule for the rest of the file (deleted at teardown). */
  addRule(spec: RuleSpec): void;
  /** node:test `it` that clears the captures first and writes pcaps when the test fails. */
  it(name: string, fn: (t: TestContext) => void | Promise<void>): void;
  /** Write each network's captured frames to `<rundir>/<label>-<ifname>.pcap`; returns the paths. */
  savePcaps(label: string): string[];
}

interface State {
  rt: Rtnl;
  nets: Network[];
  restores: (() => void)[];
  leave: (() => void) | null;
}

/** Where failure artefacts go: the runner's run directory in the guest, the temp dir elsewhere. */
export function runDir(): string {
  return process.env['NET_TEST_RUNDIR'] ?? tmpdir();
}

/** Build the networks now (synchronously, on the main thread). Prefer useNetworks() in test files. */
export function setupNetworks(opts: NetworksOptions = {}): Networks & { teardown(): void } {
  const count = opts.count ?? 4;
  if (count < 1 || count > 8) throw new RangeError(`networks: count ${count} out of 1..8`);
  const st: State = { rt: undefined as unknown as Rtnl, nets: [], restores: [], leave: null };
  // Namespaces are per thread: this must run on the main thread before any socket is made.
  if (opts.freshNetns ?? true) st.leave = enterNewNetns();
  const setSysctl = (name: string, value: string | number): void => {
    st.restores.push(sysctl.set(name, value));
  };
  const taps: TunDevice[] = [];
  // Every rule is deleted again at teardown (or when setup fails half way), newest first.
  const addRule = (spec: RuleSpec): void => {
    st.rt.addRule(spec);
    st.restores.push(() => st.rt.deleteRule(spec));
  };
  try {
    // An AF_INET6 socket loads the IPv6 module (Debian's UML kernel) so net.ipv6.* exists.
    udpSocket(6).close();
    st.rt = openRoute();
    const rt = st.rt;
    // Deterministic flow labels: tests can compare IPv6 headers exactly.
    setSysctl('net.ipv6.auto_flowlabels', 0);
    for (let id = 1; id <= count; id++) {
      const mac = `02:00:00:00:${id.toString(16).padStart(2, '0')}:01`;
      const tap = openTap({ ...opts.tap, name: `net${id}`, mac, up: false });
      taps.push(tap);
      const conf = `net/ipv6/conf/${tap.name}`;
      // Per-interface settings vanish with the interface; no restore needed.
      sysctl.set(`${conf}/accept_dad`, opts.dad ? 1 : 0);
      sysctl.set(`${conf}/accept_ra`, 1);
      sysctl.set(`${conf}/accept_ra_defrtr`, 0); // default routes go in the network's own table
      sysctl.set(`${conf}/router_solicitations`, 0); // no RS noise; tests about RS turn it on
      tap.setUp(true);
      const v4 = v4Plan(id);
      const table = TABLE_BASE + id;
      const n0 = makeNetwork(id, tap, mac, '');
      rt.addAddress({ dev: tap.name, address: `${v4.host}/26` });
      rt.addNeighbour({ dev: tap.name, dst: v4.router, lladdr: n0.router.mac, state: ['permanent'] });
      rt.addNeighbour({ dev: tap.name, dst: n0.router.ll, lladdr: n0.router.mac, state: ['permanent'] });
      rt.addRoute({ dst: v4.subnet, dev: tap.name, table, scope: 'link', prefsrc: v4.host });
      rt.addRoute({ dst: 'default', dev: tap.name, table, gateway: v4.router });
      rt.addRoute({ dst: `${n0.prefix6}`, dev: tap.name, table });
      rt.addRoute({ dst: 'fe80::/64', dev: tap.name, table });
      rt.addRoute({ dst: 'default', family: 'inet6', dev: tap.name, table, gateway: n0.router.ll });
      for (const family of ['inet', 'inet6'] as const) {
        addRule({ family, priority: PRIO_MARK + id, fwmark: id, fwmask: 0xffff, table });
        addRule({ family, priority: PRIO_UID + id, uidRange: { start: UID_BASE + id, end: UID_BASE + id }, table });
        addRule({ family, priority: PRIO_OIF + id, oif: tap.name, table });
      }
      // SLAAC: wait for the link-local address, then advertise the prefix and wait for the address.
      rt.waitAddressUsable(tap.name, n0.ll6, 5000);
      const addr6 = eui64Address(n0.prefix6, mac);
      tap.write(routerAdvertisement(n0));
      rt.waitAddressUsable(tap.name, addr6, 5000);
      st.nets.push(makeNetwork(id, tap, mac, addr6));
    }
    for (const family of ['inet', 'inet6'] as const) addRule({ family, priority: PRIO_UNREACHABLE, action: 'unreachable' });
    // What setup itself made the kernel send (MLD reports, ...) is not any test's traffic.
    sleepMs(20);
    for (const t of taps) t.drain();
  } catch (e) {
    for (const r of st.restores.reverse()) tryDo(r);
    for (const t of taps) t.close();
    st.rt?.close();
    st.leave?.();
    throw e;
  }

  const handle: Networks & { teardown(): void } = {
    get rt() {
      return st.rt;
    },
    get all() {
      return st.nets;
    },
    net(id) {
      const n = st.nets[id - 1];
      if (!n) throw new RangeError(`no network ${id} (have ${st.nets.length})`);
      return n;
    },
    sysctl: setSysctl,
    addRule,
    it(name, fn) {
      it(name, (t) => runCaptured(handle, name, fn, t));
    },
    savePcaps(label) {
      const dir = runDir();
      mkdirSync(dir, { recursive: true });
      const safe = label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
      return st.nets.map((n) => {
        const path = join(dir, `${safe}-${n.ifname}.pcap`);
        const buf = writePcap(n.captured.map((c) => ({ data: c.data, timeUs: c.timeUs })));
        writeFileSync(path, buf);
        return path;
      });
    },
    teardown() {
      try {
        // Rules (the fixture's and the tests'), then sysctls, newest first, while netlink is open.
        for (const r of st.restores.reverse()) tryDo(r);
        st.restores.length = 0;
        // Closing a tap removes the interface, its addresses, neighbours and routes.
        for (const t of taps) t.close();
        st.rt.close();
      } finally {
        st.leave?.();
      }
    },
  };
  return handle;
}

function tryDo(fn: () => void): void {
  try {
    fn();
  } catch {
    // Teardown keeps going: a rule the test already removed is not an error.
  }
}

/** Run one test body; on failure save every network's traffic as pcaps and name them in the error. */
async function runCaptured(h: Networks, name: string, fn: (t: TestContext) => void | Promise<void>, t: TestContext): Promise<void> {
  for (const n of h.all) n.captured.length = 0;
  try {
    await fn(t);
  } catch (e) {
    // Whatever the kernel sent that nobody read belongs in the capture too.
    for (const n of h.all) while (n.read(0) !== null);
    const paths = h.savePcaps(name);
    if (e instanceof Error) {
      const note = `\n(pcaps: ${paths.join(', ')})`;
      e.message += note;
      // node:test prints the stack, which was captured with the old message.
      if (e.stack) e.stack += note;
    }
    throw e;
  }
}

/**
 * Register before/after hooks that build the networks for this test file and tear them down.
 * The returned handle is usable inside tests (not at module top level).
 */
export function useNetworks(opts: NetworksOptions = {}): Networks {
  let inner: (Networks & { teardown(): void }) | null = null;
  const get = (): Networks & { teardown(): void } => {
    if (!inner) throw new Error('networks are not set up yet (use them inside tests)');
    return inner;
  };
  before(() => {
    inner = setupNetworks(opts);
  });
  after(() => {
    inner?.teardown();
    inner = null;
  });
  return {
    get rt() {
      return get().rt;
    },
    get all() {
      return get().all;
    },
    net: (id) => get().net(id),
    sysctl: (name, value) => get().sysctl(name, value),
    addRule: (spec) => get().addRule(spec),
    // `it` registers at module load, before setup: defer the capture handling to run time.
    it(name, fn) {
      it(name, (t) => runCaptured(get(), name, fn, t));
    },
    savePcaps: (label) => get().savePcaps(label),
  };
}
