// The kernel selftests CI runs (test/integration/kselftest-net.test.ts) and the benchmark times
// (bench/kselftest/collection.ts): tools/testing/selftests/net scripts that pass or skip for a
// named reason under UML in a few minutes at -j 2 (docs/KSELFTEST.md has the whole collection;
// pmtu.sh alone takes ~11 minutes there, fcnal-test.sh longer).
export const CI_TESTS = [
  'fib_tests.sh',
  'fib_rule_tests.sh',
  'icmp_redirect.sh',
  'traceroute.sh',
  'route_localnet.sh',
  'gre_gso.sh',
  'reuseport_addr_any.sh',
  'ipv6_flowlabel.sh',
  'rxtimestamp.sh',
  'rtnetlink.sh',
  'fib-onlink-tests.sh',
  'fib_nexthop_multiprefix.sh',
  'unicast_extensions.sh',
  'icmp.sh',
];
