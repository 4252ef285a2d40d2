// Every kernel constant in src/lib/include/, compared with the header its module is named after,
// in the kernel source the project tests (linux-source-6.1). src/lib/include/<path>.ts mirrors
// include/<path>.h: a number export is the C constant of the same name, a table's keys are the
// C names without the table's prefix (names.ts tablePrefix). Uapi headers are compiled with gcc,
// as a userspace program sees them; the few kernel-internal headers (linux/socket.h, net/ndisc.h,
// ...) cannot be, and are read as text: their #defines and enums, evaluated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tablePrefix } from '../../../src/lib/names.js';

const KSRC = process.env['NET_TEST_KERNEL_SOURCE'] ?? '/var/cache/net-test/linux-source-6.1';
const INCLUDE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/lib/include');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const skip = !existsSync(join(KSRC, 'include/uapi/linux/in.h'))
  ? `no kernel source at ${KSRC} (scripts/deps.sh unpacks linux-source-6.1 there)`
  : !hasGcc
    ? 'gcc not installed'
    : false;

/** header path (e.g. 'include/uapi/linux/in.h') -> [C name, our value] */
async function ours(): Promise<Map<string, [string, number | bigint][]>> {
  const out = new Map<string, [string, number | bigint][]>();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.js') && e.name !== 'index.js' ? [join(dir, e.name)] : [],
    );
  for (const file of walk(INCLUDE)) {
    const header = `include/${relative(INCLUDE, file).replace(/\.js$/, '.h')}`;
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const rows: [string, number | bigint][] = [];
    for (const [name, v] of Object.entries(mod)) {
      if (typeof v === 'number' || typeof v === 'bigint') rows.push([name, v]);
      else if (typeof v === 'object' && v !== null) {
        const prefix = tablePrefix(v);
        assert.ok(prefix !== undefined, `${header}: ${name} is an object but not a table() (its C names are unknown)`);
        for (const [k, n] of Object.entries(v as Record<string, number>)) rows.push([`${prefix}${k}`, n]);
      }
    }
    out.set(header, rows);
  }
  return out;
}

/** Values of `names` as gcc sees them with the kernel's uapi headers (no headers_install needed). */
function fromGcc(dir: string, headers: string[], names: string[]): Map<string, bigint[]> {
  // What headers_install would strip or generate: the compiler.h include, __user and friends,
  // and asm/ headers x86 takes from asm-generic.
  mkdirSync(join(dir, 'stub/linux'), { recursive: true });
  writeFileSync(join(dir, 'stub/linux/compiler.h'), '');
  writeFileSync(join(dir, 'stub/linux/compiler_types.h'), '');
  symlinkSync(join(KSRC, 'include/uapi/asm-generic'), join(dir, 'stub/asm'));
  const src = [
    '#include <time.h>', // struct timespec, which errqueue.h uses
    '#include <linux/ioctl.h>',
    '#include <asm/ioctls.h>', // FIONREAD, TIOCOUTQ behind SIOCINQ, SIOCOUTQ
    ...headers.map((h) => `#include <${h.replace(/^include\/uapi\//, '')}>`),
    'int printf(const char *, ...);',
    'int main(void) {',
    // Both readings: a u64 like XFRM_INF is ~0, an int like TCP_REPAIR_OFF_NO_WP is -1.
    ...names.map((n) => `  printf("${n} %lld %llu\\n", (long long)(${n}), (unsigned long long)(${n}));`),
    '  return 0;',
    '}',
  ].join('\n');
  writeFileSync(join(dir, 'c.c'), src);
  const cc = spawnSync(
    'gcc',
    ['-w', '-D__user=', '-D__force=', '-D__attribute_const__=', '-I', join(dir, 'stub'), '-I', join(KSRC, 'include/uapi'),
      '-I', join(KSRC, 'arch/x86/include/uapi'), '-o', join(dir, 'c'), join(dir, 'c.c')],
    { encoding: 'utf8' },
  );
  assert.equal(cc.status, 0, `gcc failed (a name that is not in its header?):\n${cc.stderr.slice(0, 4000)}`);
  const run = spawnSync(join(dir, 'c'), [], { encoding: 'utf8' });
  return new Map(run.stdout.trim().split('\n').map((l) => {
    const [k = '', signed = '', unsigned = ''] = l.split(' ');
    return [k, [BigInt(signed), BigInt(unsigned)]];
  }));
}

/** #defines and enum members of a kernel-internal header, evaluated (unknown names from `known`). */
function fromText(header: string, known: Map<string, bigint[]>): Map<string, bigint[]> {
  const text = readFileSync(join(KSRC, header), 'utf8').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ').replace(/\\\n/g, ' ');
  const sym = new Map<string, bigint>([...known].map(([k, [v = 0n]]) => [k, v]));
  const evaluate = (expr: string): bigint | undefined => {
    const e = expr.trim().replace(/\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b/g, (_m, n: string) => `${BigInt(n)}n`)
      .replace(/\b[A-Za-z_]\w*\b/g, (id) => (sym.has(id) ? `${sym.get(id)}n` : id));
    if (!/^[\d\sn()+\-*|&~<>]+$/.test(e)) return undefined; // a name we cannot resolve, a cast, ...
    try {
      return (new Function(`return (${e});`) as () => bigint)();
    } catch {
      return undefined;
    }
  };
  // In file order, so a later enum or define can use an earlier one; the first definition wins.
  const re = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+([^\n]+)$|\benum\b[^{;]*\{([^}]*)\}/gm;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) {
      const v = evaluate(m[2] ?? '');
      if (v !== undefined && !sym.has(m[1])) sym.set(m[1], v);
      continue;
    }
    let next = 0n;
    for (const item of (m[3] ?? '').split(',')) {
      const [name = '', expr] = item.split('=').map((s) => s.trim());
      if (!/^[A-Za-z_]\w*$/.test(name)) continue;
      const v = expr === undefined ? next : evaluate(expr);
      if (v === undefined) break;
      if (!sym.has(name)) sym.set(name, v);
      next = v + 1n;
    }
  }
  return new Map([...sym].map(([k, v]) => [k, [v]]));
}

test('every constant in src/lib/include/ equals its header', { skip }, async () => {
  const all = await ours();
  const uapi = [...all.keys()].filter((h) => h.startsWith('include/uapi/'));
  const dir = mkdtempSync(join(tmpdir(), 'net-test-constants-'));
  try {
    const names = uapi.flatMap((h) => all.get(h)!.map(([n]) => n));
    const gcc = fromGcc(dir, uapi, [...new Set(names)]);
    const wrong: string[] = [];
    let checked = 0;
    for (const [header, rows] of all) {
      const theirs = header.startsWith('include/uapi/') ? gcc : fromText(header, gcc);
      for (const [name, value] of rows) {
        const v = theirs.get(name);
        if (v === undefined) wrong.push(`${header}: ${name} not found`);
        else if (!v.includes(BigInt(value))) wrong.push(`${header}: ${name} is ${v[0]} (0x${v[v.length - 1]!.toString(16)}), ours ${value}`);
        checked++;
      }
    }
    assert.deepEqual(wrong, []);
    assert.ok(checked > 700, `checked only ${checked} constants`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no constant has two homes', async () => {
  const seen = new Map<string, string>();
  const dup: string[] = [];
  for (const [header, rows] of await ours()) {
    for (const [name] of rows) {
      const first = seen.get(name);
      // A table may restate the flat constants of its own header (IFF.UP and IFF_UP).
      if (first !== undefined && first !== header) dup.push(`${name}: ${first} and ${header}`);
      seen.set(name, header);
    }
  }
  assert.deepEqual(dup, []);
});
