// The smallest useful net-test test: runs as root in the guest, with its own kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

test('the guest has the two NICs net-test gave it', () => {
  for (const [dev, mac] of [['eth0', '02:4e:54:00:00:00'], ['eth1', '02:4e:54:00:00:01']]) {
    assert.equal(readFileSync(`/sys/class/net/${dev}/address`, 'utf8').trim(), mac);
  }
});

test('unprivileged ping sockets are allowed', () => {
  assert.equal(readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8').trim(), '0\t2147483647');
});
