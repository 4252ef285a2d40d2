/** scapy's ESP (scapy.layers.ipsec, on python3-cryptography) as an independent oracle: one python run per batch. */
import { execFileSync } from 'node:child_process';
import { SCAPY_PYTHON } from '../packet/scapy-oracle.js';

const PY = `
import sys, json, warnings
warnings.filterwarnings('ignore')
from scapy.all import IP, UDP, Raw
from scapy.layers.ipsec import SecurityAssociation, ESP
out = []
for c in json.load(sys.stdin):
    try:
        sa = SecurityAssociation(ESP, spi=c['spi'], crypt_algo=c['crypt'], crypt_key=bytes.fromhex(c['ckey']),
                                 auth_algo=c['auth'], auth_key=bytes.fromhex(c['akey']) if c['akey'] else None,
                                 esn_en=c['esn'], esn=c['seqHi'])
        if c['op'] == 'encrypt':
            p = IP(src='192.0.2.1', dst='192.0.2.2') / UDP(sport=c['sport'], dport=c['dport']) / Raw(bytes.fromhex(c['payload']))
            e = sa.encrypt(p, seq_num=c['seq'], iv=bytes.fromhex(c['iv']) if c['iv'] else None)
            out.append(bytes(e).hex())
        else:
            out.append(bytes(sa.decrypt(IP(bytes.fromhex(c['packet'])))).hex())
    except Exception as ex:
        out.append('error: %r' % (ex,))
print(json.dumps(out))
`;

export interface ScapyEspCase {
  op: 'encrypt' | 'decrypt';
  spi: number;
  /** scapy's names: 'AES-CBC', 'AES-GCM', ..., 'NULL'. */
  crypt: string;
  ckey: string;
  auth: string;
  akey: string;
  esn: boolean;
  seqHi: number;
  /** encrypt: IPv4 192.0.2.1 -> 192.0.2.2, UDP sport -> dport carrying payload (hex), this seq and IV (hex). */
  seq?: number;
  iv?: string;
  sport?: number;
  dport?: number;
  payload?: string;
  /** decrypt: the IPv4 packet (hex). */
  packet?: string;
}

/** Runs every case in one python process; each answer is the resulting IPv4 packet in hex, or "error: ...". */
export function scapyEsp(cases: readonly ScapyEspCase[]): string[] {
  const out = execFileSync(SCAPY_PYTHON, ['-c', PY], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'ignore'] });
  return JSON.parse(out) as string[];
}
