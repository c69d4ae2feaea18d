// Package dump prints the ISAKMP messages of a capture as an indented tree
// (in the manner of `tshark -V`) or as JSON Lines: one JSON object per
// datagram or bad frame, in file order, so that a pipeline can stream
// (`jq -c`, `grep`) and stop early without holding the whole capture.
//
// Each JSON object has "frame" and, for decoded datagrams, "time"
// (RFC 3339, nanoseconds), "src", "dst" and "kind" ("isakmp", "esp",
// "nat-keepalive"). An ISAKMP datagram has an "isakmp" object with the
// header fields and a "payloads" array; a number with a registry name gets
// a sibling "<key>_name". Byte strings are lowercase hex. A datagram or
// frame that could not be decoded has "error" (the typed error's text) and,
// for *isakmp.Error values, "offset" (within the ISAKMP message; within the
// UDP payload for port-4500 framing errors) and "path" (e.g.
// "SA[0]/Proposal[0]/Transform[1]").
package dump

import (
	"bufio"
	"errors"
	"io"
	"strconv"

	"github.com/hitless-ike/hitless/cmd/internal/udpencap"
	"github.com/hitless-ike/hitless/corpus/capture"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// Options select the output.
type Options struct {
	JSON bool // JSON Lines instead of the text tree
	ESP  bool // include ESP and NAT-keepalive datagrams (SPI and sequence number)
}

// Stats counts what a dump saw.
type Stats struct {
	Datagrams int // UDP datagrams on the IKE ports
	ISAKMP    int // of which parsed ISAKMP messages
	ESP       int // ESP packets in UDP
	Keepalive int // NAT-keepalives
	Bad       int // datagrams or frames reported as errors
}

// Dumper writes dumps; it reuses its buffers between datagrams.
type Dumper struct {
	opt  Options
	out  *bufio.Writer
	errw io.Writer
	t    tree
	buf  []byte
	st   Stats
}

// New returns a Dumper writing the dump to out and one line per bad
// datagram or frame to errw.
func New(out, errw io.Writer, o Options) *Dumper {
	return &Dumper{opt: o, out: bufio.NewWriterSize(out, 64<<10), errw: errw}
}

// Run dumps every datagram r yields. Bad datagrams and frames are reported
// and skipped; the returned error is a damaged capture file or a failed
// write, after which the dump stops.
func (d *Dumper) Run(r *capture.Reader) (Stats, error) {
	for {
		dg, err := r.NextView()
		if err == io.EOF {
			break
		}
		var fe *capture.FrameError
		if errors.As(err, &fe) {
			d.frameError(fe)
			continue
		}
		if err != nil {
			d.out.Flush()
			return d.st, err
		}
		d.Datagram(&dg)
	}
	return d.st, d.out.Flush()
}

// Stats returns the counts so far.
func (d *Dumper) Stats() Stats { return d.st }

// Flush writes buffered output.
func (d *Dumper) Flush() error { return d.out.Flush() }

func (d *Dumper) emit() {
	if d.opt.JSON {
		d.buf = d.t.json(d.buf[:0])
	} else {
		d.buf = d.t.text(d.buf[:0])
		d.buf = append(d.buf, '\n')
	}
	d.out.Write(d.buf) // a write error is sticky in bufio and surfaces at Flush
}

func (d *Dumper) report(frame int, err error) {
	d.st.Bad++
	line := append(d.buf[:0], "frame "...)
	line = strconv.AppendInt(line, int64(frame), 10)
	line = append(line, ": "...)
	line = append(line, err.Error()...)
	line = append(line, '\n')
	d.errw.Write(line)
}

func (d *Dumper) frameError(fe *capture.FrameError) {
	d.t.reset()
	d.t.num(0, "frame", "Frame", uint64(fe.Frame), "")
	d.t.str(0, "error", "Error", fe.Err.Error())
	d.emit()
	d.report(fe.Frame, fe.Err)
}

// Datagram dumps one datagram.
func (d *Dumper) Datagram(dg *capture.Datagram) {
	d.st.Datagrams++
	kind, body, ferr := udpencap.Classify(dg)
	switch kind {
	case udpencap.ESP:
		d.st.ESP++
	case udpencap.Keepalive:
		d.st.Keepalive++
	}
	if (kind == udpencap.ESP || kind == udpencap.Keepalive) && !d.opt.ESP {
		return
	}
	t := &d.t
	t.reset()
	top := int32(0)
	if !d.opt.JSON {
		title := append(d.buf[:0], "Frame "...)
		title = strconv.AppendInt(title, int64(dg.Frame), 10)
		title = append(title, ": "...)
		title = append(title, kind.String()...)
		top = t.obj(0, "", string(title))
	}
	t.num(top, "frame", "Frame", uint64(dg.Frame), "")
	t.hide()
	t.add(top, node{kind: kTime, key: "time", label: "Time", tm: dg.Time})
	t.add(top, node{kind: kAddr, key: "src", label: "Source", ap: dg.Src})
	t.add(top, node{kind: kAddr, key: "dst", label: "Destination", ap: dg.Dst})
	t.str(top, "kind", "Kind", kind.String())
	t.hide()
	var err error
	switch kind {
	case udpencap.ISAKMP:
		err = d.isakmp(top, body)
		if err == nil {
			d.st.ISAKMP++
		}
	case udpencap.ESP:
		spi, seq := udpencap.ESPHeader(body)
		e := t.obj(top, "esp", "ESP")
		t.hexnum(e, "spi", "SPI", uint64(spi), 8)
		t.num(e, "seq", "Sequence number", uint64(seq), "")
		t.num(e, "length", "Length", uint64(len(body)), "")
	case udpencap.Keepalive:
	default:
		err = ferr
		t.num(top, "length", "Length", uint64(len(body)), "")
	}
	if err != nil {
		t.str(top, "error", "Error", err.Error())
		var pe *isakmp.Error
		if errors.As(err, &pe) {
			t.num(top, "offset", "Offset", uint64(pe.Offset), "")
			t.str(top, "path", "Path", pe.Path)
		}
	}
	d.emit()
	if err != nil {
		d.report(dg.Frame, err)
	}
}
