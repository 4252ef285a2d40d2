// Every bpf(2) layout in src/lib/bpf/uapi.ts against gcc and the host's <linux/bpf.h>:
// offsets and sizes of each field (the attr members are members of union bpf_attr).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as uapi from '../../../src/lib/bpf/uapi.js';
import type { Fields, StructType } from '../../../src/lib/struct.js';

interface CLayout {
  ctype: string;
  /** Our field -> C member designator (null: no C counterpart, e.g. a bit-field word). */
  fields: Record<string, string | null>;
  /** Compare sizeof too (not for union members or prefixes). */
  whole?: boolean;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const plain = (t: StructType<Fields>, prefix = '', rename: Record<string, string | null> = {}): Record<string, string | null> =>
  Object.fromEntries(Object.keys(t.fields).map((k) => [k, k in rename ? rename[k]! : `${prefix}${snake(k)}`]));

const C: Record<string, CLayout> = {
  attrMapCreate: { ctype: 'union bpf_attr', fields: plain(uapi.attrMapCreate) },
  attrMapElem: { ctype: 'union bpf_attr', fields: plain(uapi.attrMapElem) },
  attrProgLoad: { ctype: 'union bpf_attr', fields: plain(uapi.attrProgLoad) },
  attrProgAttach: { ctype: 'union bpf_attr', fields: plain(uapi.attrProgAttach) },
  attrTestRun: { ctype: 'union bpf_attr', fields: plain(uapi.attrTestRun, 'test.') },
  attrGetId: { ctype: 'union bpf_attr', fields: { id: 'start_id', nextId: 'next_id', openFlags: 'open_flags' } },
  attrInfo: { ctype: 'union bpf_attr', fields: plain(uapi.attrInfo, 'info.') },
  attrQuery: { ctype: 'union bpf_attr', fields: plain(uapi.attrQuery, 'query.') },
  attrObj: { ctype: 'union bpf_attr', fields: plain(uapi.attrObj) },
  mapInfo: { ctype: 'struct bpf_map_info', fields: plain(uapi.mapInfo, '', { type: 'type', id: 'id', name: 'name', ifindex: 'ifindex', pad: ':pad' }), whole: true },
  progInfo: { ctype: 'struct bpf_prog_info', fields: plain(uapi.progInfo, '', { type: 'type', id: 'id', tag: 'tag', name: 'name', ifindex: 'ifindex', gplWord: null }) },
  sockFprog: { ctype: 'struct sock_fprog', fields: { len: 'len', filter: 'filter' }, whole: true },
};

const hasGcc = spawnSync('gcc', ['--version']).status === 0;

test('bpf(2) layouts match gcc and <linux/bpf.h>', { skip: hasGcc ? false : 'gcc not installed' }, () => {
  const layouts = uapi as unknown as Record<string, StructType<Fields>>;
  const exported = Object.entries(layouts).filter(([, v]) => (v as { kind?: string } | null)?.kind === 'struct').map(([k]) => k);
  assert.deepEqual(exported.sort(), Object.keys(C).sort(), 'every layout has a C counterpart here');
  const lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <linux/bpf.h>', '#include <linux/filter.h>', '#define M(T, m) sizeof(((T *)0)->m)', 'int main(void) {'];
  for (const [name, l] of Object.entries(C)) {
    lines.push(`  printf("${name} %zu\\n", sizeof(${l.ctype}));`);
    for (const [k, m] of Object.entries(l.fields)) {
      if (m === null || m.startsWith(':')) continue;
      lines.push(`  printf("${name}.${k} %zu %zu\\n", offsetof(${l.ctype}, ${m}), M(${l.ctype}, ${m}));`);
    }
  }
  for (const [ctype, table] of [['struct __sk_buff', uapi.SK_BUFF], ['struct bpf_sock', uapi.BPF_SOCK]] as const) {
    for (const m of Object.keys(table)) lines.push(`  printf("ctx.${ctype.split(' ')[1]}.${m} %zu 0\\n", offsetof(${ctype}, ${m}));`);
  }
  lines.push('  return 0;', '}');
  const dir = mkdtempSync(join(tmpdir(), 'net-test-bpf-layout-'));
  try {
    writeFileSync(join(dir, 'l.c'), lines.join('\n'));
    const cc = spawnSync('gcc', ['-o', join(dir, 'l'), join(dir, 'l.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `gcc failed:\n${cc.stderr}`);
    const run = spawnSync(join(dir, 'l'), [], { encoding: 'utf8' });
    const got = new Map(run.stdout.trim().split('\n').map((s) => {
      const [k = '', ...n] = s.split(' ');
      return [k, n.map(Number)] as const;
    }));
    let checked = 0;
    for (const [name, l] of Object.entries(C)) {
      const t = layouts[name]!;
      if (l.whole) assert.equal(t.size, got.get(name)?.[0], `sizeof(${l.ctype})`);
      for (const [k, m] of Object.entries(l.fields)) {
        if (m === null || m.startsWith(':')) continue;
        const [off, size] = got.get(`${name}.${k}`) ?? [];
        assert.equal(t.offsetOf(k), off, `offsetof(${l.ctype}, ${m}) for ${name}.${k}`);
        assert.equal(t.fields[k]?.size, size, `sizeof ${l.ctype}.${m}`);
        checked++;
      }
    }
    for (const [name, table] of [['__sk_buff', uapi.SK_BUFF], ['bpf_sock', uapi.BPF_SOCK]] as const) {
      for (const [m, off] of Object.entries(table)) {
        assert.equal(off, got.get(`ctx.${name}.${m}`)?.[0], `offsetof(struct ${name}, ${m})`);
        checked++;
      }
    }
    assert.ok(checked > 80, `checked ${checked} fields`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
