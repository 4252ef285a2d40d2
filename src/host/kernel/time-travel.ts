// Simulated time (UML time-travel, basic mode): whether a kernel has it, and whether a run boots
// with it. In basic mode the guest's clock jumps to the next timer whenever the guest is idle, so
// tests bound by kernel timers (neighbour probes, DAD, RS back-off) stop waiting in real time;
// everything in the guest (the kernel, and tests through clock_gettime) reads the same clock.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** The boot argument (arch/um/kernel/time.c: setup_time_travel; no value = basic mode). */
export const TIME_TRAVEL_ARG = 'time-travel';

const cache = new Map<string, boolean>();

/**
 * True when the UML binary at `path` was built with CONFIG_UML_TIME_TRAVEL_SUPPORT: its
 * `--help` (the __uml_help texts compiled in) then documents the `time-travel` argument.
 * Costs one spawn of a few milliseconds; remembered per path, size and mtime.
 */
export function hasTimeTravel(path: string): boolean {
  let key = path;
  try {
    const st = statSync(path);
    key = `${path}\0${st.size}\0${st.mtimeMs}`;
  } catch {
    return false;
  }
  const known = cache.get(key);
  if (known !== undefined) return known;
  const r = spawnSync(path, ['--help'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
  const has = r.status === 0 && /^time-travel$/m.test(r.stdout ?? '');
  cache.set(key, has);
  return has;
}

export interface TimeTravelChoice {
  /** The guest runs in simulated time. */
  on: boolean;
  /** What to add to the kernel command line for it. */
  args: string[];
  /** Why it is off, when it is (for -v and docs): the kernel lacks it, the user said so, ... */
  why: string;
}

/**
 * Decides whether a run boots with time-travel: `want` true insists (a kernel without it is a
 * usage error), false turns it off, undefined means "on where the kernel supports it". A
 * `time-travel...` argument the user put on --cmdline wins and is never added twice. Two cases
 * default to real time, because the guest then waits on something outside it that runs in real
 * time, and an idle basic-mode guest skips from timer to timer at full speed (retransmissions,
 * neighbour and TCP timeouts would all expire before the outside answers): an interactive
 * shell (keystrokes) and --host-net (traffic from the host's namespace).
 */
export function chooseTimeTravel(o: { kernel: string; want: boolean | undefined; cmdline: string[]; interactive: boolean; hostNet?: boolean }): TimeTravelChoice {
  const given = o.cmdline.find((a) => a === TIME_TRAVEL_ARG || a.startsWith(`${TIME_TRAVEL_ARG}=`));
  if (given) return { on: true, args: [], why: `${given} on --cmdline` };
  const off = (why: string): TimeTravelChoice => ({ on: false, args: [], why });
  if (o.want === false) return off('--no-time-travel');
  const has = hasTimeTravel(o.kernel);
  if (o.want === true) {
    if (!has) {
      throw new UsageError(
        `--time-travel: ${o.kernel} was built without CONFIG_UML_TIME_TRAVEL_SUPPORT (rebuild it with \`net-test build\`, which turns it on, or drop --time-travel)`,
      );
    }
    return { on: true, args: [TIME_TRAVEL_ARG], why: '--time-travel' };
  }
  if (!has) return off('the kernel has no CONFIG_UML_TIME_TRAVEL_SUPPORT');
  if (o.interactive) return off('interactive; --time-travel turns it on');
  if (o.hostNet === true) return off('--host-net: the host side runs in real time; --time-travel turns it on');
  return { on: true, args: [TIME_TRAVEL_ARG], why: 'the kernel supports it; --no-time-travel turns it off' };
}
