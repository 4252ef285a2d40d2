// A transport-mode ESP receiver for wire tests: an inbound SA, a UDP socket its datagrams reach,
// and a way to know whether one injected packet was delivered without waiting for a timeout.
import { inject } from '../expect.js';
import type { Network } from '../networks.js';
import type { SaSpec, Xfrm } from '../netlink/xfrm.js';
import { esp, ipv4, ipv6, raw, udp } from '../packet/index.js';
import { udpSocket } from '../socket.js';
import { espTransform, type EspTransform } from './esp-transform.js';
import { sealEsp } from './esp-packet.js';

export interface EspReceiver {
  spi: number;
  /** The SA's transform, to seal what a peer would send. */
  tr: EspTransform;
  /** The UDP port the receiving socket is bound to (at the SA's destination). */
  port: number;
  /**
   * Injects `packet` (an ESP packet from the SA's source on `n`), then a marker; returns the
   * datagram the socket received, or undefined when the kernel dropped the packet.
   */
  deliver(packet: Parameters<typeof inject>[1]): Buffer | undefined;
  close(): void;
}

/**
 * Adds `spec` (a transport SA) and a marker SA at `markerSpi` with the same algorithms and no
 * replay window. The marker is ESP too: transport-mode input reaches sockets through
 * xfrm_trans_queue()'s tasklet, in order, so once the marker is in, the packet before it was
 * delivered or dropped; a clear marker could overtake it.
 */
export function espReceiver(x: Xfrm, n: Network, spec: SaSpec, markerSpi: number, markerTimeoutMs = 2000): EspReceiver {
  const v = spec.dst.includes(':') ? 6 : 4;
  x.addSa(spec);
  const mspec: SaSpec = { src: spec.src, dst: spec.dst, spi: markerSpi, mode: 'transport', aead: spec.aead, auth: spec.auth, crypt: spec.crypt, replayWindow: 0 };
  x.addSa(mspec);
  const tr = espTransform(spec);
  const mtr = espTransform(mspec);
  const r = udpSocket(v);
  const marker = udpSocket(v);
  try {
    r.bind(v === 4 ? `${spec.dst}:0` : `[${spec.dst}]:0`);
    marker.bind(v === 4 ? `${spec.dst}:0` : `[${spec.dst}]:0`);
  } catch (e) {
    r.close();
    marker.close();
    throw e;
  }
  const port = r.localAddress().port;
  const mport = marker.localAddress().port;
  const ip = () => (v === 4 ? ipv4({ src: spec.src, dst: spec.dst }) : ipv6({ src: spec.src, dst: spec.dst }));
  return {
    spi: spec.spi,
    tr,
    port,
    deliver(packet) {
      inject(n, packet);
      inject(n, sealEsp([ip(), esp({ spi: markerSpi, seq: 1 }), udp({ sport: 1, dport: mport }), raw('marker')], mtr));
      marker.recv({ timeoutMs: markerTimeoutMs });
      return r.tryRecv({ timeoutMs: 0 }) ?? undefined;
    },
    close() {
      r.close();
      marker.close();
    },
  };
}
