package vendorid

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"testing"
)

// TestPublishedValuesAreDigests recomputes every value that is an MD5
// digest (or a prefix of one) from its source text.
func TestPublishedValuesAreDigests(t *testing.T) {
	for i, e := range table {
		if len(e.vid)%2 != 0 || len(decoded[i]) == 0 {
			t.Errorf("%s: bad hex %q", e.name, e.vid)
		}
		if _, err := hex.DecodeString(e.vid); err != nil {
			t.Errorf("%s: %v", e.name, err)
		}
		if e.source == "" {
			continue
		}
		sum := md5.Sum([]byte(e.source))
		if !bytes.HasPrefix(sum[:], decoded[i]) {
			t.Errorf("%s: published %s, MD5(%q) = %x", e.name, e.vid, e.source, sum)
		}
	}
}

func TestName(t *testing.T) {
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	for _, c := range []struct {
		class string
		vid   []byte
		want  string
	}{
		{"exact RFC 3947", h("4a131c81070358455c5728f20e95452f"), "RFC 3947 NAT-T"},
		{"DPD 1.0 with version bytes", h("afcad71368a1f1c96b8696fc77570100"), "RFC 3706 DPD"},
		{"XAUTH 8 bytes", h("09002689dfd6b712"), "XAUTH"},
		{"Cisco fragmentation with flags", h("4048b7d56ebce88525e7de7f00d6c2d380000000"), "Cisco Fragmentation"},
		{"exact-match entry with extra byte", h("4a131c81070358455c5728f20e95452f00"), ""},
		{"truncated known value", h("4a131c81070358455c57"), ""},
		{"empty", nil, ""},
		{"unknown", []byte("hello world, not a vid"), ""},
	} {
		if got := Name(c.vid); got != c.want {
			t.Errorf("%s: Name = %q, want %q", c.class, got, c.want)
		}
	}
}
