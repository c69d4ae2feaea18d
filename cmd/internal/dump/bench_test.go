package dump

import (
	"bytes"
	"io"
	"testing"

	"github.com/hitless-ike/hitless/cmd/internal/synth"
	"github.com/hitless-ike/hitless/corpus/capture"
)

// benchCapture replicates the shipped captures to about 10,000 ISAKMP
// messages (the mix bench-compare.sh uses).
func benchCapture(b *testing.B) ([]byte, int) {
	var srcs [][]capture.Datagram
	for _, p := range shippedCaptures {
		ds, err := capture.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, ds)
	}
	var buf bytes.Buffer
	st, err := synth.Generate(&buf, srcs, 10000)
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), st.ISAKMP
}

func benchDump(b *testing.B, o Options) {
	file, n := benchCapture(b)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := capture.NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		st, err := New(io.Discard, io.Discard, o).Run(r)
		if err != nil || st.ISAKMP != n {
			b.Fatal(err, st)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDumpJSON and BenchmarkDumpText measure a whole dump: capture
// reading, ISAKMP parsing and rendering, per 10,000-message capture.
func BenchmarkDumpJSON(b *testing.B) { benchDump(b, Options{JSON: true}) }

func BenchmarkDumpText(b *testing.B) { benchDump(b, Options{}) }
