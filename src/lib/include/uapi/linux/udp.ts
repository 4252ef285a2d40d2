// include/uapi/linux/udp.h (Linux 6.1): UDP socket options and encapsulation types. Checked
// against the header by test/unit/lib/constants.test.ts.
import { table } from '../../../names.js';

export const UDP_CORK = 1;
export const UDP_ENCAP = 100;
export const UDP_NO_CHECK6_TX = 101;
export const UDP_NO_CHECK6_RX = 102;
/** GSO segment size for sends. */
export const UDP_SEGMENT = 103;
export const UDP_GRO = 104;

export const UDP_ENCAP_ESPINUDP_NON_IKE = 1;
export const UDP_ENCAP_ESPINUDP = 2;
export const UDP_ENCAP_L2TPINUDP = 3;
export const UDP_ENCAP_GTP0 = 4;
export const UDP_ENCAP_GTP1U = 5;
export const UDP_ENCAP_RXRPC = 6;
/** ESP in TCP (RFC 8229): an xfrm encapsulation type, though named TCP_ and kept here. */
export const TCP_ENCAP_ESPINTCP = 7;

/** The UDP_ENCAP_* types by name (xfrm_encap_tmpl.encap_type). */
export const UDP_ENCAP_TYPE = table('UDP_ENCAP_', {
  UDP_ENCAP_ESPINUDP_NON_IKE, UDP_ENCAP_ESPINUDP, UDP_ENCAP_L2TPINUDP, UDP_ENCAP_GTP0, UDP_ENCAP_GTP1U, UDP_ENCAP_RXRPC,
});
