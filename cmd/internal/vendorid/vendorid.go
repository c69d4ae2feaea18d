// Package vendorid names well-known ISAKMP Vendor ID payloads. Most are the
// MD5 digest of a text (shown with each entry, so tests can recompute
// them); some carry version bytes after a fixed prefix.
package vendorid

import "bytes"

type entry struct {
	name   string
	vid    string // published value, hex decoded at init
	prefix bool   // match when the payload starts with vid (version bytes follow)
	source string // text whose MD5 the value is (or whose MD5 vid is a prefix of); empty if not an MD5
}

var table = []entry{
	{name: "RFC 3947 NAT-T", vid: "4a131c81070358455c5728f20e95452f", source: "RFC 3947"},
	{name: "draft-ietf-ipsec-nat-t-ike-00", vid: "4485152d18b6bbcd0be8a8469579ddcc", source: "draft-ietf-ipsec-nat-t-ike-00"},
	{name: "draft-ietf-ipsec-nat-t-ike-01", vid: "16f6ca16e4a4066d83821a0f0aeaa862", source: "draft-ietf-ipsec-nat-t-ike-01"},
	{name: "draft-ietf-ipsec-nat-t-ike-02", vid: "cd60464335df21f87cfdb2fc68b6a448", source: "draft-ietf-ipsec-nat-t-ike-02"},
	// Many implementations hash the draft name with its trailing newline.
	{name: "draft-ietf-ipsec-nat-t-ike-02\\n", vid: "90cb80913ebb696e086381b5ec427b1f", source: "draft-ietf-ipsec-nat-t-ike-02\n"},
	{name: "draft-ietf-ipsec-nat-t-ike-03", vid: "7d9419a65310ca6f2c179d9215529d56", source: "draft-ietf-ipsec-nat-t-ike-03"},
	{name: "draft-ietf-ipsec-nat-t-ike", vid: "4df37928e9fc4fd1b3262170d515c662", source: "draft-ietf-ipsec-nat-t-ike"},
	// RFC 3706 §7: 14 fixed bytes, then major and minor version.
	{name: "RFC 3706 DPD", vid: "afcad71368a1f1c96b8696fc7757", prefix: true},
	// First 8 bytes of MD5 of the draft's file name.
	{name: "XAUTH", vid: "09002689dfd6b712", source: "draft-ietf-ipsra-isakmp-xauth-06.txt"},
	{name: "strongSwan", vid: "882fe56d6fd20dbc2251613b2ebe5beb", source: "strongSwan"},
	// MD5("FRAGMENTATION") followed by 4 bytes of capability flags.
	{name: "Cisco Fragmentation", vid: "4048b7d56ebce88525e7de7f00d6c2d3", prefix: true, source: "FRAGMENTATION"},
}

var decoded [][]byte

func init() {
	decoded = make([][]byte, len(table))
	for i, e := range table {
		b := make([]byte, len(e.vid)/2)
		for j := range b {
			b[j] = unhex(e.vid[2*j])<<4 | unhex(e.vid[2*j+1])
		}
		decoded[i] = b
	}
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// Name returns the name of a well-known vendor ID, or "" if vid is not one.
func Name(vid []byte) string {
	for i, e := range table {
		if bytes.Equal(vid, decoded[i]) || e.prefix && bytes.HasPrefix(vid, decoded[i]) {
			return e.name
		}
	}
	return ""
}
