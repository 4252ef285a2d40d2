#!/bin/sh
# net-test guest init: PID 1 inside the UML guest.
#
# POSIX sh on purpose: a process start costs milliseconds in UML and Node costs ~0.5 s, so init
# starts as few processes as it can (one `mount -a` for every mount, no loops that fork).
#
# Contract with the host (src/host/vm/plan.ts writes plan.sh, src/host/run.ts reads the rest):
#   NET_TEST_RUNDIR  host path of the run directory (kernel command line -> init environment)
#   plan.sh          sourced: NT_MODE (test; shell: a root shell after the tests; serve: warm
#                    spares started by nt_serve <k>, for net-test watch), NT_CWD,
#                    NT_PATH, NT_MODDIR, NT_ROOTFS (image device, empty: the host root),
#                    NT_ROOTFS_RW, NT_ROOTLESS, NT_STEPS, NT_GUEST (host directory of
#                    src/host/vm/guest-files.ts), nt_env (exports the tests' environment);
#                    per step k: nt_kind_k (exec or agent), nt_idx_k (test index of an exec
#                    step), nt_dir_k (directory to run it in, on a fresh overlay), nt_step_k
#   /dev/ttyS0       test output (host fd 3), each test preceded by "\036nt:test <i>"
#   /dev/ttyS1       control lines (host fd 4):
#                    "nt:init", "nt:ready", "nt:start <i>", "nt:end <i> <status>", "nt:error <text>";
#                    serve mode: "nt:idle <k>" (spare k waits), "nt:served <k> <status>"; in: "run <n>"
#   status-<i>       exit status of test i, in the run directory
#   /proc/exitcode   UML's own exit code: the last test's status, a second channel

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022

ctl() { echo "nt:$*" >/dev/ttyS1 2>/dev/null || echo "nt:$*" >/dev/console; }
# sysrq's power-off runs in a kernel worker; PID 1 must outlive it (its exit panics the kernel),
# and a minimal image has no poweroff(8) to fall back on.
power_off() {
	echo o >/proc/sysrq-trigger
	poweroff -f 2>/dev/null
	while :; do sleep 1; done
}
die() {
	ctl "error $*"
	echo "net-test init: $*" >/dev/console
	power_off
}

ctl init
[ -n "$NET_TEST_RUNDIR" ] || die "NET_TEST_RUNDIR missing from the kernel command line"
. "$NET_TEST_RUNDIR/plan.sh" || die "cannot read $NET_TEST_RUNDIR/plan.sh"
# Rootless runs (UML in a user namespace): hostfs shows the host's root-owned files as owned by
# the overflow uid, so set-uid mount(8) would drop us to "nobody". Use a copy without the bit
# (devtmpfs is the one writable place this early) and mount the host nosuid.
MOUNT=mount UMOUNT=umount SUID=
if [ "$NT_ROOTLESS" = 1 ]; then
	cp /bin/mount /dev/.nt-mount && cp /bin/umount /dev/.nt-umount && chmod 0755 /dev/.nt-mount /dev/.nt-umount ||
		die "cannot copy mount(8) to /dev (is CONFIG_DEVTMPFS_MOUNT set?)"
	MOUNT=/dev/.nt-mount UMOUNT=/dev/.nt-umount SUID=,nosuid
fi
$MOUNT -t proc proc /proc || die "cannot mount /proc"
# devtmpfs makes no /dev/fd or /dev/std{in,out,err} (bash's <(...), `nft -f /dev/stdin`): copy the
# links the host made, while its paths are still the host's. devtmpfs is one instance: the new
# root's /dev has them too.
[ -n "$NT_GUEST" ] && cp -RP "$NT_GUEST/dev/." /dev/ 2>/dev/null
# Same for these tests (/tmp is about to become the new root): our /lib/modules, and whether the
# host has a /lib/modules to bind it over (a machine without modules has none).
GUEST_LIB= HOST_MODULES=0
[ -n "$NT_GUEST" ] && [ -d "$NT_GUEST/lib/modules" ] && GUEST_LIB=/tmp/host$NT_GUEST/lib
[ -d /lib/modules ] && HOST_MODULES=1

# Shell builtins where a command would cost a process start.
has_fs() {
	while read -r a b; do [ "$a" = "$1" ] || [ "$b" = "$1" ] && return 0; done </proc/filesystems
	return 1
}
read -r release </proc/sys/kernel/osrelease

# --- Modules: distribution UML kernels keep theirs in /usr/lib/uml/modules/<version>, where
# modprobe does not look. A symlink tree plus a wrapper fixes both modprobe(8) and the kernel's
# own requests (/proc/sys/kernel/modprobe). $N is where it is built, $G where the guest sees it.
modules() { # $1: the module directory's path as the guest will see it
	mkdir -p $N/bin $N/modules/lib/modules
	ln -s "$1" "$N/modules/lib/modules/$release"
	printf '#!/bin/sh\nexec /sbin/modprobe -d %s/modules "$@"\n' "$G" >$N/bin/modprobe
	chmod 0755 $N/bin/modprobe
}

# The guest root's mounts go into one fstab for one mount(8) process. Common to both roots:
# kernel filesystems, /run (with the run directory, the only writable host path) and /tmp.
tail_fstab() {
	echo "proc /tmp/proc proc X-mount.mkdir 0 0"
	echo "sysfs /tmp/sys sysfs X-mount.mkdir 0 0"
	echo "devtmpfs /tmp/dev devtmpfs X-mount.mkdir 0 0"
	echo "devpts /tmp/dev/pts devpts X-mount.mkdir,gid=5,mode=620,ptmxmode=666 0 0"
	echo "tmpfs /tmp/dev/shm tmpfs X-mount.mkdir,mode=1777 0 0"
	echo "cgroup2 /tmp/sys/fs/cgroup cgroup2 nofail 0 0"
	echo "bpf /tmp/sys/fs/bpf bpf nofail,X-mount.mkdir 0 0"
	# Where kselftest scripts look (netdevsim, tracing), when the kernel has them (nofail does
	# not cover a missing mount point: sysfs makes these only for a kernel with the fs).
	has_fs debugfs && echo "debugfs /tmp/sys/kernel/debug debugfs nofail 0 0"
	has_fs tracefs && echo "tracefs /tmp/sys/kernel/tracing tracefs nofail 0 0"
	# /lib/modules/<release> as modprobe, modinfo and the scripts expect it (guest-files.ts): a
	# bind over the root's /lib/modules (an image's is writable, so it may be created), else a
	# read-only overlay of the host's lib directory with ours on top.
	if [ -z "$GUEST_LIB" ]; then
		:
	elif [ -n "$NT_ROOTFS" ] || [ $HOST_MODULES = 1 ]; then
		echo "$GUEST_LIB/modules /tmp/lib/modules none bind,X-mount.mkdir,nofail 0 0"
	elif has_fs overlay; then
		# (mount resolves lib -> usr/lib on a merged-/usr root, in both paths)
		echo "overlay /tmp/lib overlay ro,lowerdir=$GUEST_LIB:/tmp/host/lib,nofail 0 0"
	fi
	echo "tmpfs /tmp/run tmpfs X-mount.mkdir,mode=0755 0 0"
	echo "none /tmp/run/net-test hostfs X-mount.mkdir,$NET_TEST_RUNDIR 0 0"
	echo "tmpfs /tmp/tmp tmpfs X-mount.mkdir,mode=1777 0 0"
}

if [ -n "$NT_ROOTFS" ]; then
	# --- The new root is an image (net-test run --rootfs): UML put a copy-on-write file in
	# front of it (or, with --rw, writes go to the image on purpose). The host stays at /host.
	$MOUNT -t ext4 "$NT_ROOTFS" /tmp || die "rootfs: cannot mount the image ($NT_ROOTFS) as ext4"
	F=/dev/.nt-fstab
	{
		echo "none /tmp/host hostfs ro$SUID,X-mount.mkdir,/ 0 0"
		tail_fstab
	} >$F
	$MOUNT -a -T $F || die "mounting the guest root failed (see the console log)"
	rm -f $F
	# /run is a tmpfs of this boot: nothing of ours lands in the image.
	N=/tmp/run/.nt G=/run/.nt OLD=run/.nt/old
	mkdir -p $N/old
	[ -n "$NT_MODDIR" ] && modules "/host$NT_MODDIR"
else
	# --- The new root: a tmpfs whose top-level directories are read-only views of the host's,
	# with copy-on-write overlays where a userland writes (/etc, /var, /root) and the whole
	# host root at /host.
	N=/tmp/.nt G=/.nt OLD=.nt/old
	$MOUNT -t tmpfs -o mode=0755 root /tmp || die "cannot mount the new root's tmpfs"
	mkdir -p $N/old $N/etc/u $N/etc/w $N/var/u $N/var/w $N/root/u $N/root/w
	if [ -n "$NT_MODDIR" ]; then
		modules "$NT_MODDIR"
		# Until pivot_root the tree lives under /tmp; the kernel's requests go through the
		# wrapper's final path, so point the kernel at it only after the switch.
		has_fs overlay || /sbin/modprobe -d $N/modules overlay 2>/dev/null
	fi
	OVL=1
	has_fs overlay || OVL=0
	links=
	{
		echo "none /tmp/host hostfs ro$SUID,X-mount.mkdir,/ 0 0"
		for e in /* /.[!.]*; do
			[ -e "$e" ] || [ -L "$e" ] || continue
			n=${e#/}
			case $n in
			proc | sys | dev | run | tmp | host | .nt | lost+found) continue ;;
			esac
			if [ -L "$e" ]; then
				links="$links $e"
			elif [ -d "$e" ]; then
				case $n in
				etc | var | root)
					# A rootless run cannot read the host's /root: it gets an empty one.
					if [ $OVL = 1 ] && ! [ "$n$NT_ROOTLESS" = root1 ]; then
						echo "overlay /tmp/$n overlay X-mount.mkdir,lowerdir=/tmp/host/$n,upperdir=$N/$n/u,workdir=$N/$n/w 0 0"
					else
						echo "tmpfs /tmp/$n tmpfs X-mount.mkdir,mode=0755 0 0"
					fi
					;;
				*) echo "/tmp/host/$n /tmp/$n none bind$SUID,X-mount.mkdir 0 0" ;;
				esac
			fi
		done
		tail_fstab
	} >$N/fstab
	# Top-level symlinks (bin -> usr/bin on merged-/usr systems) are copied as they are.
	[ -n "$links" ] && cp -P $links /tmp/
	$MOUNT -a -T $N/fstab || die "mounting the guest root failed (see the console log)"
	if [ $OVL = 0 ]; then
		# No overlayfs in this kernel. Nothing here may grow with the host's data (a /root can
		# hold gigabytes): /root and /var start empty; /etc, which a userland rewrites
		# (resolv.conf, hosts), is copied when it is the usual few MiB, else seen read-only.
		set -- $(du -sk /tmp/host/etc 2>/dev/null)
		if [ "${1:-0}" -le 65536 ]; then
			cp -a /tmp/host/etc/. /tmp/etc/ 2>/dev/null
		else
			echo "net-test init: the host's /etc is $1 KiB: read-only in the guest (no overlayfs)" >/dev/console
			$UMOUNT /tmp/etc && $MOUNT -o bind /tmp/host/etc /tmp/etc
		fi
		mkdir -p /tmp/var/tmp /tmp/var/lib /tmp/var/log /tmp/var/cache
	fi
fi

cd /tmp && pivot_root . $OLD || die "pivot_root failed"
cd /
$UMOUNT -l /$OLD
# devtmpfs is one instance: the copies would show in the new /dev too.
[ "$NT_ROOTLESS" = 1 ] && rm -f /dev/.nt-mount /dev/.nt-umount
[ -n "$NT_MODDIR" ] && echo $G/bin/modprobe >/proc/sys/kernel/modprobe

# --- Kernel knobs a test machine wants. Files under /proc/sys written by the shell: no forks.
echo "$NT_HOSTNAME" >/proc/sys/kernel/hostname
# An image keeps its own /etc/hostname (a --rw run would write it into the image).
[ -z "$NT_ROOTFS" ] && echo "$NT_HOSTNAME" >/etc/hostname 2>/dev/null
echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range
# IPv6 may be a module: load it now so ::1 exists and its sysctls can be set.
[ -d /proc/sys/net/ipv6 ] || PATH="$G/bin:$PATH" modprobe ipv6 2>/dev/null
# Tests read the kernel's configuration (Android's net/test does); a modular kernel keeps
# /proc/config.gz in configs.ko, which nothing requests on its own.
[ -n "$NT_MODDIR" ] && ! [ -e /proc/config.gz ] && /sbin/modprobe -q -d $G/modules configs 2>/dev/null
for f in /proc/sys/net/ipv6/conf/all/use_tempaddr /proc/sys/net/ipv6/conf/default/use_tempaddr; do
	[ -w $f ] && echo 0 >$f
done
# An image's own settings, as its init system would apply them.
[ -n "$NT_ROOTFS" ] && sysctl -q --system >/dev/null 2>&1
# tun may be a module: a static node lets the first open load it on demand.
[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200; }
# Host-supplied randomness: mixed into the pool. UML's hw_random (host /dev/random) credits it.
[ -r /run/net-test/seed ] && cat /run/net-test/seed >/dev/urandom
ip link set lo up
export PATH="$G/bin:$NT_PATH" HOME=/root NET_TEST=1 NET_TEST_RUNDIR=/run/net-test
cd "$NT_CWD" 2>/dev/null || cd /

ctl ready
stty -F /dev/ttyS0 raw -echo 2>/dev/null
# A step with a directory runs there, on a fresh writable overlay of it (kselftest runs each test
# in its own directory, and some write beside themselves); nothing reaches the host.
enter_dir() { # $1 directory, $2 test index
	o=/run/.nt-dir/$2
	mkdir -p $o/u $o/w && mount -t overlay overlay -o "lowerdir=$1,upperdir=$o/u,workdir=$o/w" "$1" 2>/dev/null ||
		echo "net-test: no overlayfs: $1 stays read-only"
	cd "$1" || echo "net-test: cannot enter $1"
}
leave_dir() {
	cd /
	umount -l "$1" 2>/dev/null
	rm -rf /run/.nt-dir/$2
}
nt_env
# Executables are wrapped here; the agent step reports each of its node tests itself.
k=1
rc=0
while [ $k -le "$NT_STEPS" ]; do
	eval "kind=\$nt_kind_$k i=\$nt_idx_$k dir=\$nt_dir_$k"
	if [ "$kind" = agent ]; then
		"nt_step_$k" </dev/null >/dev/ttyS0 2>&1
		rc=$?
	else
		ctl "start $i"
		printf '\036nt:test %d\n' $i >/dev/ttyS0
		[ -n "$dir" ] && enter_dir "$dir" $i >/dev/ttyS0 2>&1
		"nt_step_$k" </dev/null >/dev/ttyS0 2>&1
		rc=$?
		[ -n "$dir" ] && { leave_dir "$dir" $i; cd "$NT_CWD" 2>/dev/null || cd /; }
		echo $rc >/run/net-test/status-$i
		ctl "end $i $rc"
	fi
	k=$((k + 1))
done
if [ "$NT_MODE" = serve ]; then
	# net-test watch: warm spares (src/guest/agent.ts --serve), one after another, each serving
	# one command from the host. The line stays open in between, so a command the host sends
	# while the next spare starts waits in its input buffer; raw, so nothing echoes back.
	exec 7<>/dev/ttyS1
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	k=1
	while :; do
		nt_serve $k </dev/null >/dev/ttyS0 2>&1
		ctl "served $k $?"
		k=$((k + 1))
	done
fi
if [ "$NT_MODE" = shell ]; then
	# An image's network configuration (DHCPv4, RAs on eth0) comes up in the background: nothing
	# may answer, and the shell does not wait for it. Tests own the NICs: only in shell mode.
	[ -n "$NT_ROOTFS" ] && command -v ifup >/dev/null && (ifup -a --allow=hotplug >/dev/null 2>&1 &)
	echo "net-test: root shell in the guest; exit or Ctrl-D powers off." >/dev/tty0
	setsid -c sh -l </dev/tty0 >/dev/tty0 2>&1
fi
# hostfs writes through to the host file in write_end: no sync needed for the results.
echo $rc >/proc/exitcode
# A --rw image must be clean when UML stops: nothing else flushes it before the power-off.
# (A read-only run's COW file is thrown away: no need.)
[ "$NT_ROOTFS_RW" = 1 ] && { sync; mount -o remount,ro / 2>/dev/null; }
ctl done
power_off
