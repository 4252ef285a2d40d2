#!/usr/bin/env bash
# CI: the selftests kernel (`net-test build --selftests`) from Debian's linux-source-6.1 and the
# C helpers of its tools/testing/selftests/net, built or reused; prints the kernel's path on the
# last line. The tree, tools and caching are ci-kernel.sh's; only the build directory differs.
# Extra arguments go to `net-test build`.
# Environment: NET_TEST_CACHE (default /var/cache/net-test), NET_TEST_JOBS (default: CPU count).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NET_TEST_CACHE:-/var/cache/net-test}
jobs=${NET_TEST_JOBS:-$(nproc)}
tree=$cache/linux-source-6.1

# ci-kernel.sh passes its own --build-dir first: ours, later on the line, wins.
kernel=$("$here/ci-kernel.sh" --build-dir "$cache/build-selftests" --selftests "$@" | tail -n 1)

# The helpers, in the tree as a kernel developer builds them (a second run has nothing to do).
# Some need libraries CI does not install (liburing, libmnl): those stay unbuilt, and a run of
# the whole collection reports them as "not built"; the scripts CI runs do not need them.
log=$cache/selftests-net-build.log
echo "ci-kernel-selftests: make -C tools/testing/selftests TARGETS=net (log: $log)" >&2
if ! make -k -C "$tree/tools/testing/selftests" TARGETS=net -j"$jobs" >"$log" 2>&1; then
  echo "ci-kernel-selftests: some helpers did not build (see $log):" >&2
  grep -E '^make\[[0-9]+\]: \*\*\*' "$log" | head -n 10 >&2 || true
fi
echo "$kernel"
