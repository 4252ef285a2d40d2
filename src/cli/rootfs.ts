// `net-test rootfs build`: argument parsing only; the build is src/host/rootfs/build.ts.
import { Command, Option } from 'commander';
import { UsageError } from '../host/errors.js';
import { buildRootfs, RootfsInterrupted } from '../host/rootfs/build.js';
import { DEFAULT_SIZE, DEFAULT_SUITE } from '../host/rootfs/recipe.js';
import { collect } from './build.js';

interface RootfsBuildValues {
  suite: string;
  size: string;
  packages: string[];
  force?: boolean;
}

/** Runs a build; the image path goes to stdout (last line) for scripts; returns the exit status. */
export async function runRootfsBuild(out: string, values: RootfsBuildValues, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  try {
    const r = await buildRootfs({ out, suite: values.suite, size: values.size, packages: values.packages, force: values.force === true });
    process.stdout.write(`${r.image}\n`);
    return 0;
  } catch (e) {
    if (e instanceof RootfsInterrupted) {
      err.write(`net-test: ${e.message}\n`);
      return e.signal === 'SIGINT' ? 130 : 143;
    }
    if (e instanceof UsageError) {
      err.write(`net-test: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

/**
 * The `rootfs` command group. `onStatus` receives the exit status promise (main.ts keeps it as
 * its result); by default it becomes process.exitCode. Parse errors throw CommanderError
 * (exitOverride) so the caller maps them to exit status 2.
 */
export function rootfsCommand(
  onStatus: (status: Promise<number>) => void = (p) => void p.then((s) => (process.exitCode = s)),
): Command {
  const rootfs = new Command('rootfs').description('Debian root filesystem images for the guest').exitOverride();
  rootfs
    .command('build')
    .description("build an ext4 image with debootstrap from this machine's configured Debian mirror (needs root)")
    .argument('<out>', 'the image file to write (OUT.log, OUT.stamp next to it)')
    .option('--suite <name>', 'Debian suite', DEFAULT_SUITE)
    .option('--size <size>', 'image size, e.g. 512M, 2G', DEFAULT_SIZE)
    .addOption(new Option('--packages <list>', 'extra packages, comma separated (repeatable)').argParser(collect).default([], 'none'))
    .option('--force', 'rebuild even when OUT is up to date')
    .addHelpText(
      'after',
      '\nThe same arguments reuse an up-to-date image (OUT.stamp). Downloaded .debs are cached in\n' +
        '~/.cache/net-test/rootfs/debs (or $NET_TEST_DEB_CACHE). Needs debootstrap and e2fsprogs.',
    )
    .action((out: string, values: RootfsBuildValues) => {
      onStatus(runRootfsBuild(out, values));
    });
  return rootfs;
}
