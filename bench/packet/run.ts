/**
 * Packet build+serialise and parse throughput, ours beside scapy's, same machine, same run.
 * Usage: node dist/bench/packet/run.js [seconds per measurement, default 1] [rounds, default 3]
 *
 * Each round measures scapy and then us, back to back, so both see the same machine load;
 * the figures printed are medians over the rounds (the machine is shared and noisy).
 */
import { execFileSync } from 'node:child_process';
import { build, echoRequest6, ipv6, parse, raw, tcp, type Layer } from '../../src/lib/packet/index.js';

const SECONDS = Number(process.argv[2] ?? 1);
const ROUNDS = Number(process.argv[3] ?? 3);
const PAYLOAD = Buffer.alloc(56, 0x61);

const cases: Array<{ name: string; make: () => Layer[]; scapy: string }> = [
  {
    name: 'TCP/IPv6 SYN (5 options)',
    make: () => [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), tcp({
      sport: 40000, dport: 80, seq: 1000, flags: 'S', window: 64240,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sackOk' }, { kind: 'timestamp', tsval: 1, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    })],
    scapy: "IPv6(src='2001:db8::1',dst='2001:db8::2')/TCP(sport=40000,dport=80,seq=1000,flags='S',window=64240,options=[('MSS',1460),('SAckOK',b''),('Timestamp',(1,0)),('NOP',None),('WScale',7)])",
  },
  {
    name: 'ICMPv6 echo request (56 B)',
    make: () => [ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }), echoRequest6({ id: 1, seq: 1 }), raw(PAYLOAD)],
    scapy: "IPv6(src='2001:db8::1',dst='2001:db8::2')/ICMPv6EchoRequest(id=1,seq=1,data=b'a'*56)",
  },
];

/** Runs fn repeatedly for about `seconds`; returns operations per second. */
function rate(fn: () => unknown, seconds: number): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up the JIT
  let n = 0;
  const start = process.hrtime.bigint();
  const stop = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < stop) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const PY = `
import sys, json, time
from scapy.all import IPv6, TCP, ICMPv6EchoRequest, raw
cases = json.load(sys.stdin)
secs = float(sys.argv[1])
def rate(fn):
    for _ in range(50): fn()
    n = 0; start = time.perf_counter(); now = start
    while now - start < secs:
        for _ in range(50): fn()
        n += 50; now = time.perf_counter()
    return n / (now - start)
out = []
for e in cases:
    code = compile(e, '<bench>', 'eval')  # construct the layers each time, but parse the text once
    b = raw(eval(code))
    out.append({'build': rate(lambda: raw(eval(code))), 'parse': rate(lambda: IPv6(b)), 'hex': b.hex()})
print(json.dumps(out))
`;

interface PyResult { build: number; parse: number; hex: string }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

type Op = 'build' | 'parse';

function main(): void {
  const samples = cases.map(() => ({ ours: { build: [] as number[], parse: [] as number[] }, scapy: { build: [] as number[], parse: [] as number[] } }));
  for (let r = 0; r < ROUNDS; r++) {
    const py = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PY, String(SECONDS)], { input: JSON.stringify(cases.map((c) => c.scapy)), encoding: 'utf8' })) as PyResult[];
    cases.forEach((c, i) => {
      const p = py[i]!;
      const bytes = build(c.make());
      if (bytes.toString('hex') !== p.hex) throw new Error(`${c.name}: bytes differ from scapy's; the benchmark would compare different work`);
      const s = samples[i]!;
      s.scapy.build.push(p.build);
      s.scapy.parse.push(p.parse);
      s.ours.build.push(rate(() => build(c.make()), SECONDS));
      s.ours.parse.push(rate(() => parse(bytes, 'ip'), SECONDS));
    });
  }
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(11);
  console.log(`node ${process.version}; ${SECONDS} s per measurement; median of ${ROUNDS} rounds; scapy via /usr/bin/python3`);
  console.log(`${'packet'.padEnd(28)} ${'op'.padEnd(6)} ${'ours/s'.padStart(11)} ${'scapy/s'.padStart(11)}  ratio`);
  let minRatio = Infinity;
  cases.forEach((c, i) => {
    const s = samples[i]!;
    for (const op of ['build', 'parse'] as Op[]) {
      const ours = median(s.ours[op]), theirs = median(s.scapy[op]);
      const ratio = ours / theirs;
      minRatio = Math.min(minRatio, ratio);
      console.log(`${c.name.padEnd(28)} ${op.padEnd(6)} ${fmt(ours)} ${fmt(theirs)}  ${ratio.toFixed(0)}x`);
    }
  });
  console.log(`lowest ratio: ${minRatio.toFixed(0)}x (target >= 20x)`);
}

main();
