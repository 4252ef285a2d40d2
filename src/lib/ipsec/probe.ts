// Whether this kernel can hold an SA of a kind, asked the only reliable way: by adding one.
import type { SaSpec, Xfrm } from '../netlink/xfrm.js';

/**
 * Adds a throw-away SA (192.0.2.1 -> 192.0.2.2, SPI 1, plus `sa`) and flushes the SAD; returns
 * undefined when the kernel took it, else a skip reason: `no xfrm <what> here: <the error>`
 * (e.g. ENOSYS for a missing algorithm, EPROTONOSUPPORT without ESP, EOPNOTSUPP for an encap).
 */
export function saUnsupported(x: Xfrm, sa: Omit<SaSpec, 'src' | 'dst' | 'spi'>, what: string): string | undefined {
  try {
    x.addSa({ src: '192.0.2.1', dst: '192.0.2.2', spi: 1, ...sa });
    x.flushSas();
    return undefined;
  } catch (e) {
    return `no xfrm ${what} here: ${(e as Error).message.split('\n')[0]}`;
  }
}
