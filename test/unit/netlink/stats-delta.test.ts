import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statsDelta } from '../../../src/lib/netlink/rt-structs.js';

test('statsDelta: only the counters that moved, by how much; a counter new in `after` counts from 0', () => {
  assert.deepEqual(statsDelta({ rx_packets: 5n, tx_packets: 7n }, { rx_packets: 6n, tx_packets: 7n, rx_errors: 2n }), { rx_packets: 1n, rx_errors: 2n });
  assert.deepEqual(statsDelta({ rx_packets: 5n }, { rx_packets: 5n }), {});
});
