// Recognise a Linux kernel source tree that can build user-mode Linux.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { KernelSetupError } from './build-errors.js';

export interface KernelTree {
  /** Real path of the tree's top directory. */
  root: string;
  /** VERSION.PATCHLEVEL.SUBLEVEL plus EXTRAVERSION from the top Makefile, e.g. "6.1.192". */
  version: string;
}

function makefileVersion(makefile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(makefile, 'utf8').slice(0, 4096);
  } catch {
    return undefined;
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*=[ \\t]*(\\S*)`, 'm').exec(text)?.[1];
  const version = field('VERSION');
  const patchlevel = field('PATCHLEVEL');
  if (!version || patchlevel === undefined || !/^\d+$/.test(version)) return undefined;
  return `${version}.${patchlevel}${field('SUBLEVEL') ? `.${field('SUBLEVEL')}` : ''}${field('EXTRAVERSION') ?? ''}`;
}

/** The tree at exactly `dir`, or undefined when `dir` is not a kernel tree with arch/um. */
export function kernelTreeAt(dir: string): KernelTree | undefined {
  const version = makefileVersion(join(dir, 'Makefile'));
  if (!version || !existsSync(join(dir, 'arch', 'um', 'Kconfig'))) return undefined;
  return { root: realpathSync(dir), version };
}

/** The nearest kernel tree at or above `start` (so `net-test` works from net/ipv6/ too). */
export function findKernelTree(start: string): KernelTree | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const tree = kernelTreeAt(dir);
    if (tree) return tree;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The tree at `dir`, or a setup error that says what is wrong with it. */
export function requireKernelTree(dir: string): KernelTree {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new KernelSetupError(`kernel tree ${abs} does not exist: pass --kernel-dir DIR`);
  if (!makefileVersion(join(abs, 'Makefile'))) {
    throw new KernelSetupError(
      `${abs} is not a kernel source tree (no Makefile with VERSION/PATCHLEVEL): cd into one or pass --kernel-dir DIR`,
    );
  }
  const tree = kernelTreeAt(abs);
  if (!tree) throw new KernelSetupError(`${abs} has no arch/um: user-mode Linux cannot be built from this tree`);
  return tree;
}

/**
 * An out-of-tree (O=) build refuses a source tree that was configured in place; say so before make does.
 * Kbuild's own test is the presence of .config or include/config in the source tree.
 */
export function requireCleanForOutOfTree(tree: KernelTree): void {
  for (const leftover of ['.config', join('include', 'config')]) {
    if (existsSync(join(tree.root, leftover))) {
      throw new KernelSetupError(
        `${tree.root} has an in-tree build (${leftover}), which out-of-tree builds refuse: run 'make ARCH=um mrproper' there (after saving .config) or pass --build-dir ${tree.root}`,
      );
    }
  }
}
