/**
 * The test library (`net-test/lib`, also `net-test`): what a test imports to talk to the kernel
 * below the level Node offers. The packet builder is `net-test/packet`, the netlink clients are
 * `net-test/netlink`. docs/LIBRARY.md describes each part.
 */
export { K, SysError, isSysError, errnoIs, errnoName, errnoNumber, type ErrnoCode, type ErrnoName } from './sys/index.js';
/** The raw system calls (bytes in, bytes out), for what the typed wrappers do not cover. */
export * as sys from './sys/calls.js';
export * from './struct.js';
export * from './uapi.js';
export * from './addr.js';
export * from './socket.js';
export * from './tun.js';
export * from './sysctl.js';
export * from './procnet.js';
export * from './counters.js';
export * from './creds.js';
export * from './netns.js';
export * from './networks.js';
export * from './expect.js';
export * from './tcp-peer.js';
export { table, nameOf, flagNames, valueOf, flagsValue, type Table } from './names.js';
