/** Runs Debian's python3-scapy once for a batch of packet expressions and returns their bytes (hex). */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PY = `
import sys, json, struct, socket
from scapy.all import *
from scapy.layers.ipsec import SecurityAssociation
from scapy.contrib.igmp import IGMP
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq, IGMPv3mr, IGMPv3gr
exprs = json.load(sys.stdin)
out = []
for e in exprs:
    try:
        out.append(bytes(eval(e)).hex())
    except Exception as ex:
        out.append('error: %r' % (ex,))
print(json.dumps(out))
`;

export const SCAPY_PYTHON = '/usr/bin/python3';

export function scapyAvailable(): boolean {
  if (!existsSync(SCAPY_PYTHON)) return false;
  try {
    execFileSync(SCAPY_PYTHON, ['-c', 'import scapy.all'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Evaluates each python expression with scapy and returns bytes(pkt) as hex (or "error: ..."). */
export function scapyBytes(exprs: readonly string[]): string[] {
  const out = execFileSync(SCAPY_PYTHON, ['-c', PY], { input: JSON.stringify(exprs), encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as string[];
}
