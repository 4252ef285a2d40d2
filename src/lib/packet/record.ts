/** Records every frame that crosses a tun/tap device (both directions) into a pcap file. */
import type { TunDevice } from '../tun.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW, openPcap, type PcapWriter } from './pcap.js';

/**
 * Wraps `dev` so that frames written to it and frames read from it (including those
 * readMatching skips) are appended to the pcap file at `path`. Closing the result closes
 * both. A tap records Ethernet frames, a tun bare IP packets (LINKTYPE_RAW).
 */
export function recordPcap(dev: TunDevice, path: string): TunDevice & { readonly pcap: PcapWriter } {
  const pcap = openPcap(path, dev.kind === 'tap' ? LINKTYPE_ETHERNET : LINKTYPE_RAW);
  const read: TunDevice['read'] = (opts) => {
    const f = dev.read(opts);
    if (f) pcap.write(f);
    return f;
  };
  return {
    kind: dev.kind, fd: dev.fd, name: dev.name, ifindex: dev.ifindex, pcap,
    mac: () => dev.mac(),
    setMac: (mac) => dev.setMac(mac),
    setUp: (up) => dev.setUp(up),
    isUp: () => dev.isUp(),
    setMtu: (mtu) => dev.setMtu(mtu),
    read,
    readMatching(match, o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 0);
      for (;;) {
        const f = read({ timeoutMs: Math.max(0, deadline - Date.now()) });
        if (f === null || match(f)) return f;
      }
    },
    write(frame) {
      dev.write(frame);
      pcap.write(frame);
    },
    vnetHdrSize: dev.vnetHdrSize,
    setOffload: (flags) => dev.setOffload(flags),
    // The pcap gets the frame without its virtio_net_hdr.
    readVnet(o) {
      const r = dev.readVnet(o);
      if (r) pcap.write(r.frame);
      return r;
    },
    writeVnet(hdr, frame) {
      dev.writeVnet(hdr, frame);
      pcap.write(frame);
    },
    drain() {
      let n = 0;
      while (read() !== null) n++;
      return n;
    },
    close() {
      dev.close();
      pcap.close();
    },
  };
}
