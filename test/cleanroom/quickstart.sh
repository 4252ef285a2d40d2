#!/usr/bin/env bash
# The README's quick start on a minimal machine: a Debian minbase root (debootstrap, cached),
# plus only what the README assumes (Node.js >= 20, this checkout), entered with chroot in a
# mount namespace of its own with /proc, /dev (null, zero, random, urandom, tty, net/tun),
# /dev/shm and /dev/pts. Every scenario runs on a throw-away overlay of the cached root.
#
#   quickstart.sh readme   the README's first command line, exactly as written (sudo dropped:
#                          we are root); must pass
#   quickstart.sh nokmod   the same line without kmod: `run` must exit 2 naming the package,
#                          and `doctor` must say so
#
# Needs root, debootstrap and overlayfs. Environment: NET_TEST_CACHE (default
# /var/cache/net-test): the root is kept in $NET_TEST_CACHE/cleanroom, .debs in
# $NET_TEST_CACHE/debs (shared with the CI image); the host's ~/.npm is lent as npm's cache.
set -euo pipefail
scenario=${1:?usage: quickstart.sh readme|nokmod}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${NET_TEST_CACHE:-/var/cache/net-test}
base=$cache/cleanroom/bookworm-minbase
# Bump when the base root's recipe changes.
recipe=1

[[ $(id -u) = 0 ]] || { echo "quickstart.sh: needs root (chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "quickstart.sh: apt-get install debootstrap" >&2; exit 2; }

# --- The README's first command line: the first line of its first sh block, `sudo ` dropped.
line=$(awk '/^```sh/{b=1;next} b&&/^```/{exit} b&&!/^#/&&NF{print;exit}' "$repo/README.md")
line=${line//sudo /}
[[ $line == *"npx net-test run"* ]] || { echo "quickstart.sh: cannot find the quick start's command line in README.md (got: $line)" >&2; exit 2; }
if [[ $scenario = nokmod ]]; then
	[[ $line == *" kmod"* ]] || { echo "quickstart.sh: the quick start does not install kmod: nothing to leave out" >&2; exit 2; }
	line=${line// kmod/}
fi

# --- The cached minbase root (mirror: the host's, as `net-test rootfs build` takes it).
if [[ $(cat "$base.stamp" 2>/dev/null) != "$recipe" ]]; then
	mirror=$(cd "$repo" && node --input-type=module -e 'import { findMirror } from "./dist/src/host/rootfs/sources.js"; console.log(findMirror("bookworm"))' 2>/dev/null || echo http://deb.debian.org/debian)
	rm -rf "$base" "$base.tmp"
	mkdir -p "$base.tmp" "$cache/debs"
	echo "quickstart.sh: debootstrap --variant=minbase bookworm from $mirror" >&2
	debootstrap --variant=minbase --cache-dir="$cache/debs" bookworm "$base.tmp" "$mirror" >"$cache/cleanroom/debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/cleanroom/debootstrap.log" >&2; exit 1; }
	mv "$base.tmp" "$base"
	echo "$recipe" >"$base.stamp"
fi

work=$(mktemp -d /var/tmp/net-test-cleanroom.XXXXXX)
trap 'umount -R "$work/root" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/upper" "$work/work" "$work/root" "$work/npm"

# Everything below happens in a private mount namespace: the host's mounts are untouched and
# every mount goes when it ends.
export base work repo line scenario cache
unshare --mount --propagation private -- bash -euo pipefail -c '
	r=$work/root
	mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/work" "$r"
	# The README assumes Node.js >= 20: the host'"'"'s node and npm, as installed (npm may have
	# updated itself since its package was unpacked).
	mkdir -p "$r/usr/bin" "$r/usr/lib/node_modules"
	cp -a "$(command -v node)" "$r/usr/bin/node"
	cp -a "$(npm root -g)/npm" "$r/usr/lib/node_modules/npm"
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"
	# This checkout, as committed files are in the working tree.
	mkdir -p "$r/root/net-test"
	(cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$r/root/net-test"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc proc "$r/proc"
	mount -t tmpfs -o mode=0755 dev "$r/dev"
	for d in null zero random urandom tty full; do touch "$r/dev/$d"; mount --bind "/dev/$d" "$r/dev/$d"; done
	mkdir -p "$r/dev/net" "$r/dev/shm" "$r/dev/pts"
	touch "$r/dev/net/tun"; mount --bind /dev/net/tun "$r/dev/net/tun"
	mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
	mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
	ln -s pts/ptmx "$r/dev/ptmx"
	# Caches only: apt'"'"'s .debs and npm'"'"'s tarballs (a fresh machine downloads the same).
	mkdir -p "$HOME/.npm" "$r/root/.npm" "$cache/debs" "$cache/cleanroom/apt-lists"
	mount --bind "$cache/debs" "$r/var/cache/apt/archives"
	mount --bind "$cache/cleanroom/apt-lists" "$r/var/lib/apt/lists"
	mount --bind "$HOME/.npm" "$r/root/.npm"
	run() { chroot "$r" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb DEBIAN_FRONTEND=noninteractive /bin/bash -c "cd /root/net-test && $1"; }
	echo "quickstart.sh: [$scenario] # $line" >&2
	set +e
	run "$line"
	status=$?
	echo "quickstart.sh: [$scenario] exit $status" >&2
	if [ "$scenario" = nokmod ]; then
		echo "quickstart.sh: [$scenario] # npx net-test doctor" >&2
		run "npx net-test doctor"
		echo "quickstart.sh: [$scenario] doctor exit $?" >&2
	fi
	exit $status
'
