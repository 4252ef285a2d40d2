#!/bin/sh
# Installs what net-test and its own tests need on Debian/Ubuntu (run as root).
#   user-mode-linux          the distribution's UML kernel (/usr/bin/linux.uml + modules)
#   iproute2 util-linux      ip, unshare, nsenter: taps and namespaces of a run
#   linux-source-6.1 bc flex bison   a real kernel tree to build UML from (kernel build tests)
#   python3-scapy tshark llvm   independent oracles for the packet library's and the BPF assembler's bytes
#   iptables iputils-ping tcpdump    tools tests use inside the guest
#   socat traceroute ethtool uuid-runtime   tools the kernel's selftests/net scripts CI runs call
#   libxml2-utils            xmllint: the JUnit output is validated against a schema
#   debootstrap e2fsprogs    net-test rootfs build: a Debian tree, then mkfs.ext4 -d
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	user-mode-linux iproute2 util-linux kmod \
	linux-source-6.1 bc flex bison make gcc libc6-dev \
	python3 python3-scapy tshark llvm \
	iptables iputils-ping tcpdump libxml2-utils debootstrap e2fsprogs \
	socat traceroute ethtool uuid-runtime >/dev/null
