/**
 * IPsec on the wire, independently of the kernel: xfrm's algorithm table with our node:crypto
 * implementations (algorithms.ts), ESP's transforms (esp-transform.ts) and ESP on layer stacks
 * (esp-packet.ts), AH on IP packets (ah.ts). Tests seal what a peer would send and open what
 * the kernel sent. With the kernel: an inbound ESP receiver that knows whether a packet was
 * delivered (receiver.ts) and whether an SA of a kind can be added at all (probe.ts).
 */
export * from './algorithms.js';
export * from './mac.js';
export * from './esp-transform.js';
export * from './esp-packet.js';
export * from './ah.js';
export * from './stats.js';
export * from './pfkey.js';
export * from './receiver.js';
export * from './probe.js';
