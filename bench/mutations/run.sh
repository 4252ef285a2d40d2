#!/usr/bin/env bash
# Builds a deliberately broken kernel and runs suite files on it: the suite must fail.
#   bench/mutations/run.sh PATCH SUITE_FILE... (as root)
# The cached tree and build (/var/cache/net-test, see src/host/kernel/ci-kernel.sh) are never
# touched: in a private mount namespace a tmpfs overlay lies over both at their own paths, the
# patch goes into the overlay, the incremental build recompiles one file, and everything
# vanishes with the namespace.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 PATCH SUITE_FILE..." >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${NET_TEST_CACHE:-/var/cache/net-test}
export TREE=$cache/linux-source-6.1 BUILD=$cache/build-6.1 PATCH=$(realpath "$1") REPO=$repo
shift
[[ -x $BUILD/linux ]] || { echo "no cached build at $BUILD: run src/host/kernel/ci-kernel.sh first" >&2; exit 2; }
exec unshare -m --propagation private bash -c '
  set -euo pipefail
  s=$(mktemp -d)
  mount -t tmpfs tmpfs "$s"
  mkdir -p "$s/tu" "$s/tw" "$s/bu" "$s/bw"
  mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$s/tu,workdir=$s/tw" "$TREE"
  mount -t overlay overlay -o "lowerdir=$BUILD,upperdir=$s/bu,workdir=$s/bw" "$BUILD"
  (cd "$TREE" && patch -p1 --quiet <"$PATCH")
  echo "mutation: $(head -n 1 "$PATCH")" >&2
  node "$REPO/bin/net-test.js" build --kernel-dir "$TREE" --build-dir "$BUILD" >/dev/null
  set +e
  (cd "$REPO" && node bin/net-test.js run -q -j 1 --kernel "$BUILD/linux" "$@")
  rc=$?
  umount "$BUILD" "$TREE" "$s"
  rmdir "$s"
  exit $rc
' bash "$@"
