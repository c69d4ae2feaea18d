package capture

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzRead: any input yields datagrams and one of the documented errors,
// never a panic; every payload fits in the input.
func FuzzRead(f *testing.F) {
	for _, p := range shipped {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	ip4 := serialize(f, udp4(f, 500, 4500, "ike")...)
	f.Add(writePcap(f, layers.LinkTypeRaw, [][]byte{ip4, ip4[:30]}))
	f.Add(writePcapng(f, []frame{{layers.LinkTypeLinuxSLL2, sll2(0x0800, ip4)}, {layers.LinkTypeNull, append([]byte{2, 0, 0, 0}, ip4...)}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		ds, err := Read(bytes.NewReader(in))
		var sk *SkippedFrames
		if err != nil && !errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrFile) && !errors.As(err, &sk) {
			t.Fatalf("undocumented error %T %v", err, err)
		}
		total := 0
		for _, d := range ds {
			total += len(d.Payload)
			if d.Frame < 1 {
				t.Fatalf("frame number %d", d.Frame)
			}
		}
		if total > len(in) && !bytes.HasPrefix(in, []byte{0x1f, 0x8b}) {
			t.Fatalf("%d payload bytes from a %d-byte input", total, len(in))
		}
	})
}
