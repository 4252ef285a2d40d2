// The multicast option values: sizes as IP_MSFILTER_SIZE / GROUP_FILTER_SIZE give them
// (include/uapi/linux/in.h), addresses where the kernel reads them, and the getsockopt readers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupFilter, groupReq, groupSourceReq, ipMsfilter, mreqSource, parseGroupFilter, parseIpMsfilter } from '../../../src/lib/mcast.js';
import { MCAST_EXCLUDE, MCAST_INCLUDE } from '../../../src/lib/include/uapi/linux/in.js';

describe('multicast option values', () => {
  it('ip_mreq_source: group, interface, source in that order', () => {
    assert.equal(mreqSource('239.1.2.3', '192.0.2.1', '198.51.100.7').toString('hex'), 'ef010203c0000201c6336407');
  });

  it('group_req: index, 4 bytes of padding, a 128-byte sockaddr_storage', () => {
    const b = groupReq(7, '239.1.2.3');
    assert.equal(b.length, 136);
    assert.equal(b.readUInt32LE(0), 7);
    assert.equal(b.readUInt16LE(8), 2); // AF_INET
    assert.equal(b.subarray(12, 16).toString('hex'), 'ef010203');
    const v6 = groupReq(3, 'ff05::1');
    assert.equal(v6.readUInt16LE(8), 10); // AF_INET6
    assert.equal(v6.subarray(16, 32).toString('hex'), 'ff050000000000000000000000000001');
  });

  it('group_source_req: the source sockaddr at 136', () => {
    const b = groupSourceReq(1, 'ff05::1', '2001:db8::9');
    assert.equal(b.length, 264);
    assert.equal(b.readUInt16LE(136), 10);
    assert.equal(b.subarray(144, 160).toString('hex'), '20010db8000000000000000000000009');
  });

  it('ip_msfilter: IP_MSFILTER_SIZE(n) = 16 + 4n; numsrc may promise more room than sources given', () => {
    const b = ipMsfilter('239.1.2.3', '192.0.2.1', { fmode: MCAST_INCLUDE, sources: ['198.51.100.1', '198.51.100.2'] });
    assert.equal(b.length, 24);
    assert.deepEqual(parseIpMsfilter(b), { fmode: MCAST_INCLUDE, numsrc: 2, sources: ['198.51.100.1', '198.51.100.2'] });
    const room = ipMsfilter('239.1.2.3', '192.0.2.1', { fmode: 0, sources: [], numsrc: 4 });
    assert.equal(room.length, 32);
    assert.equal(room.readUInt32LE(12), 4);
  });

  it('group_filter: GROUP_FILTER_SIZE(n) = 144 + 128n; a reply with numsrc above the room lists what fits', () => {
    const b = groupFilter(2, 'ff05::1', { fmode: MCAST_EXCLUDE, sources: ['2001:db8::1', '2001:db8::2'] });
    assert.equal(b.length, 144 + 256);
    assert.deepEqual(parseGroupFilter(b), { fmode: MCAST_EXCLUDE, numsrc: 2, sources: ['2001:db8::1', '2001:db8::2'] });
    b.writeUInt32LE(5, 140);
    assert.deepEqual(parseGroupFilter(b), { fmode: MCAST_EXCLUDE, numsrc: 5, sources: ['2001:db8::1', '2001:db8::2'] });
  });
});
