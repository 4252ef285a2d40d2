// Classic BPF encodings against libpcap's compiler: `tcpdump -d` prints a filter as a listing,
// `tcpdump -dd` as struct sock_filter initialisers. Each program below is the listing written
// with our builders; its bytes must be exactly tcpdump's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cbpf } from '../../../src/lib/bpf/index.js';

const { alu, encodeClassic, decodeClassic, jmp, jeq, label, ldAbs, ldImm, ldInd, ldLen, ldMem, ldxMsh, neg, ret, st, tax } = cbpf;
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

/** tcpdump -dd for an Ethernet link: the struct sock_filter bytes. */
function pcap(expr: string): Buffer {
  const r = spawnSync('tcpdump', ['-dd', '-y', 'EN10MB', expr], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = [...r.stdout.matchAll(/\{ (0x[0-9a-f]+), (\d+), (\d+), (0x[0-9a-f]+) \}/g)];
  const b = Buffer.alloc(rows.length * 8);
  rows.forEach((m, i) => {
    b.writeUInt16LE(parseInt(m[1]!, 16), i * 8);
    b[i * 8 + 2] = Number(m[2]);
    b[i * 8 + 3] = Number(m[3]);
    // TAX/TXA (class BPF_MISC) ignore k; libpcap leaves a scratch register number there.
    b.writeUInt32LE((parseInt(m[1]!, 16) & 7) === 7 ? 0 : parseInt(m[4]!, 16), i * 8 + 4);
  });
  return b;
}

const ACCEPT = 262144; // libpcap's default snapshot length

const CASES: Record<string, cbpf.ClassicItem[]> = {
  'ip and udp dst port 53': [
    ldAbs('h', 12), jeq(0x800, 0, 'no'),
    ldAbs('b', 23), jeq(17, 0, 'no'),
    ldAbs('h', 20), jmp('jset', 0x1fff, 'no', 0),
    ldxMsh(14), ldInd('h', 16), jeq(53, 0, 'no'),
    ret(ACCEPT), label('no'), ret(0),
  ],
  'ip[8] = 64 and len <= 100': [
    ldAbs('h', 12), jeq(0x800, 0, 'no'), ldAbs('b', 22), jeq(64, 0, 'no'),
    ldLen(), jmp('jgt', 100, 'no', 0), ret(ACCEPT), label('no'), ret(0),
  ],
  'ip[2:2] - ((ip[0]&0xf)<<2) > 100': [
    ldAbs('h', 12), jeq(0x800, 0, 'no'), ldAbs('h', 16), st(1), ldAbs('b', 14), alu('and', 0xf), alu('lsh', 2), tax(), ldMem(1),
    alu('sub', 'x'), jmp('jgt', 100, 0, 'no'), ret(ACCEPT), label('no'), ret(0),
  ],
  'ether[0] + ether[1] = 2': [ldAbs('b', 0), st(1), ldAbs('b', 1), tax(), ldMem(1), alu('add', 'x'), jeq(2, 0, 'no'), ret(ACCEPT), label('no'), ret(0)],
  'vlan 5': [
    ldAbs('h', 12), jeq(0x8100, 'tag', 0), jeq(0x88a8, 'tag', 0), jeq(0x9100, 'tag', 'no'),
    label('tag'), ldAbs('h', 14), alu('and', 0xfff), jeq(5, 0, 'no'), ret(ACCEPT), label('no'), ret(0),
  ],
  'ip[1] / 4 = 1 or ip[1] % 3 = 2 or ip[1] * 2 = 8 or ip[1] ^ 1 = 0 or ip[1] | 1 = 3 or -ip[1] = 0 or ip[1] >> 1 = 0': [
    ldAbs('h', 12), jeq(0x800, 0, 'no'),
    ldAbs('b', 15), alu('div', 4), jeq(1, 'yes', 0),
    ldAbs('b', 15), alu('mod', 3), jeq(2, 'yes', 0),
    ldAbs('b', 15), alu('mul', 2), jeq(8, 'yes', 0),
    ldAbs('b', 15), alu('xor', 1), jeq(0, 'yes', 0),
    ldAbs('b', 15), alu('or', 1), jeq(3, 'yes', 0),
    ldAbs('b', 15), neg(), jeq(0, 'yes', 0),
    ldAbs('b', 15), alu('rsh', 1), jeq(0, 'yes', 'no'),
    label('yes'), ret(ACCEPT), label('no'), ret(0),
  ],
  'ether[0:4] = 1 and len >= 60': [ldAbs('w', 0), jeq(1, 0, 'no'), ldLen(), jmp('jge', 60, 0, 'no'), ret(ACCEPT), label('no'), ret(0)],
};

for (const [expr, prog] of Object.entries(CASES)) {
  test(`classic program for "${expr}" matches libpcap's encoding`, { skip: hasTcpdump ? false : 'tcpdump not installed' }, () => {
    assert.equal(encodeClassic(prog).toString('hex'), pcap(expr).toString('hex'));
  });
}

test('classic encoding round-trips; bad jumps are refused', () => {
  const b = encodeClassic([ldImm(7), ret(0xffffffff)]);
  assert.deepEqual(decodeClassic(b).map((i) => [i.code, i.jt, i.jf, i.k]), [[0x00, 0, 0, 7], [0x06, 0, 0, 0xffffffff]]);
  assert.throws(() => encodeClassic([label('back'), jeq(1, 'back', 0)]), /classic jumps go 0\.\.255 forward/);
  assert.throws(() => encodeClassic([jeq(1, 'gone', 0)]), /undefined label/);
  const far: cbpf.ClassicItem[] = [jeq(1, 'end', 0), ...Array.from({ length: 256 }, () => ldImm(0)), label('end'), ret(0)];
  assert.throws(() => encodeClassic(far), /256 instructions away/);
});
