/**
 * The netlink clients (`net-test/netlink`): rtnetlink (links, addresses, routes, rules,
 * neighbours), sock_diag, xfrm and generic netlink, over one request/ACK/dump core.
 * src/lib/netlink/README.md has examples.
 */
export * from './core.js';
export * from './route.js';
export * from './sockdiag.js';
export * from './xfrm.js';
export * from './genl.js';
