#!/usr/bin/env bash
# CI: build (or reuse) the UML kernel from Debian's linux-source-6.1 and print its path on the last line.
# Needs: gcc make bc flex bison (apt-get install -y bc flex bison on top of build-essential) and
# linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz). Extra arguments go to `net-test build`.
# Environment: NET_TEST_CACHE (default /var/cache/net-test), NET_TEST_JOBS (default: CPU count).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cache=${NET_TEST_CACHE:-/var/cache/net-test}
tarball=${NET_TEST_KERNEL_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
tree=$cache/linux-source-6.1
build=$cache/build-6.1
jobs=${NET_TEST_JOBS:-$(nproc)}

for tool in make gcc bc flex bison; do
  command -v "$tool" >/dev/null || { echo "ci-kernel: $tool is missing: apt-get install -y build-essential bc flex bison" >&2; exit 2; }
done

mkdir -p "$cache"
if [[ ! -f $tree/Makefile ]]; then
  [[ -f $tarball ]] || { echo "ci-kernel: $tarball is missing: apt-get install -y linux-source-6.1" >&2; exit 2; }
  # Unpack beside the final place and rename, so an interrupted unpack is never mistaken for a tree.
  tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "ci-kernel: unpacking $tarball" >&2
  tar -C "$tmp" -xf "$tarball"
  rm -rf "$tree"
  mv "$tmp/linux-source-6.1" "$tree"
fi

cd "$repo"
[[ -f dist/src/cli/build.js ]] || npx tsc -p tsconfig.json >&2 || true
if node bin/net-test.js build --help 2>/dev/null | grep -q -- '--kernel-dir'; then
  node bin/net-test.js build --kernel-dir "$tree" --build-dir "$build" -j "$jobs" "$@"
else
  # The CLI does not route `build` yet: call the command module directly.
  node --input-type=module -e '
    import { buildCommand } from "./dist/src/cli/build.js";
    await buildCommand().parseAsync(process.argv.slice(1), { from: "user" });
  ' -- --kernel-dir "$tree" --build-dir "$build" -j "$jobs" "$@"
fi
