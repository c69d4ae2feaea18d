package adapter_test

import "net/netip"

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// probe is an IPv4/UDP packet from 10.0.0.1 to 10.0.1.1 carrying i.
func probe(i int) []byte {
	return []byte{0x45, 0, 0, 29, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1, 0, 1, 0, 2, 0, 9, 0, 0, byte(i)}
}
