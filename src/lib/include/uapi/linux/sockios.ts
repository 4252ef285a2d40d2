// include/uapi/linux/sockios.h (Linux 6.1): socket and interface ioctls. Checked against the
// header by test/unit/lib/constants.test.ts.

/** Bytes queued for reading (FIONREAD, asm-generic/ioctls.h). */
export const SIOCINQ = 0x541b;
/** Bytes in the send queue not yet acknowledged (TIOCOUTQ). */
export const SIOCOUTQ = 0x5411;
export const SIOCOUTQNSD = 0x894b;
export const SIOCGIFNAME = 0x8910;
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFADDR = 0x8915;
export const SIOCSIFADDR = 0x8916;
export const SIOCGIFNETMASK = 0x891b;
export const SIOCSIFNETMASK = 0x891c;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFNAME = 0x8923;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCDIFADDR = 0x8936;
export const SIOCGIFTXQLEN = 0x8942;
export const SIOCSIFTXQLEN = 0x8943;
export const SIOCGSKNS = 0x894c;
