package isakmp

import "testing"

// benchMsgs returns the plaintext capture messages (the encrypted ones
// carry no payload chain to walk) and their total size.
func benchMsgs(b *testing.B) ([][]byte, int) {
	var ms [][]byte
	n := 0
	for _, c := range loadCaptures(b) {
		if c.msg[19]&byte(FlagEncryption) == 0 {
			ms = append(ms, c.msg)
			n += len(c.msg)
		}
	}
	return ms, n
}

// BenchmarkViewWalk walks every payload, proposal, transform and attribute
// of the plaintext capture messages.
func BenchmarkViewWalk(b *testing.B) {
	ms, n := benchMsgs(b)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range ms {
			if walkAll(m) < 0 {
				b.Fatal("walk failed")
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	ms, n := benchMsgs(b)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range ms {
			if _, err := Parse(m); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	ms, n := benchMsgs(b)
	parsed := make([]*Message, len(ms))
	for i, m := range ms {
		var err error
		if parsed[i], err = Parse(m); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, m := range parsed {
			if _, err := m.AppendMarshal(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
