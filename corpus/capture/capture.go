// Package capture reads pcap and pcapng files and returns the UDP datagrams
// exchanged on the IKE ports 500 and 4500, over IPv4 or IPv6.
//
// Supported link types: Ethernet (with any number of 802.1Q/802.1ad tags, up
// to a small bound), Linux cooked capture SLL and SLL2, raw IP (LINKTYPE_RAW
// 101, and the per-version 228/229), and BSD loopback/null (0 and 108).
// Files may be gzip-compressed. Frames are numbered from 1 as tshark numbers
// them: every packet record counts, whether or not it carries IKE.
//
// Frames that are not IKE traffic (ARP, TCP, other UDP ports, ESP in IP) are
// skipped silently. Frames that might be IKE traffic but cannot be decoded —
// a truncated or inconsistent IP or UDP header, an IP fragment, an unknown
// link type — are reported as a *FrameError and never abort reading.
//
// Headers are decoded by hand rather than with gopacket/layers: the hand
// decoder allocates nothing per frame and is several times faster (see
// BenchmarkDecode*).
package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// IKE UDP ports (RFC 2408 §2.5.2, RFC 3947 §4).
const (
	PortIKE  = 500
	PortNATT = 4500
)

// Errors a *FrameError or a file-level error wraps; test with errors.Is.
var (
	// ErrUnknownFormat: the input is neither pcap nor pcapng (nor gzip of either).
	ErrUnknownFormat = errors.New("capture: not a pcap or pcapng file")
	// ErrLinkType: the frame's link type is not one this package decodes.
	ErrLinkType = errors.New("capture: unsupported link type")
	// ErrTruncated: a link, IP or UDP header, or the UDP payload its length
	// field announces, extends past the captured bytes.
	ErrTruncated = errors.New("capture: truncated frame")
	// ErrBadLength: a length field is smaller than its own header.
	ErrBadLength = errors.New("capture: bad length field")
	// ErrFragment: an IP fragment of a UDP datagram; fragments are not
	// reassembled.
	ErrFragment = errors.New("capture: IP fragment")
	// ErrFile: the capture file structure itself is damaged (bad record
	// header, file cut short mid-record). Reading cannot continue.
	ErrFile = errors.New("capture: damaged capture file")
)

// Datagram is one UDP datagram to or from port 500 or 4500.
type Datagram struct {
	Frame    int       // 1-based frame number in the file, as tshark numbers them
	Time     time.Time // capture timestamp, UTC
	Src, Dst netip.AddrPort
	// Payload is the UDP payload. For port 4500 it still includes the
	// non-ESP marker (IKE) or is the ESP packet itself (RFC 3948).
	Payload []byte
}

// FrameError reports a frame that could not be decoded. It does not end
// reading: Reader.Next may be called again.
type FrameError struct {
	Frame int   // 1-based frame number
	Err   error // wraps one of ErrLinkType, ErrTruncated, ErrBadLength, ErrFragment
}

func (e *FrameError) Error() string { return fmt.Sprintf("frame %d: %v", e.Frame, e.Err) }

// Unwrap returns the underlying error.
func (e *FrameError) Unwrap() error { return e.Err }

// SkippedFrames is the error Read and ReadFile return when the file was read
// to the end but some frames were skipped. The datagrams returned with it
// are complete; callers that only want the good datagrams may ignore it
// after errors.As.
type SkippedFrames struct {
	Frames []*FrameError
}

func (e *SkippedFrames) Error() string {
	if len(e.Frames) == 1 {
		return "capture: 1 frame skipped: " + e.Frames[0].Error()
	}
	return fmt.Sprintf("capture: %d frames skipped, first: %v", len(e.Frames), e.Frames[0])
}

// Unwrap exposes every FrameError to errors.Is and errors.As.
func (e *SkippedFrames) Unwrap() []error {
	errs := make([]error, len(e.Frames))
	for i, f := range e.Frames {
		errs[i] = f
	}
	return errs
}

// ReadFile reads a whole capture file; see Read.
func ReadFile(path string) ([]Datagram, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read reads a whole pcap or pcapng stream (sniffed by its magic number) and
// returns its IKE datagrams in file order. If some frames were skipped, it
// returns every good datagram together with a *SkippedFrames error. Any
// other error means the file could not be read to its end; the datagrams
// read before the damage are still returned.
func Read(r io.Reader) ([]Datagram, error) {
	cr, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	var out []Datagram
	var skipped []*FrameError
	for {
		d, err := cr.Next()
		if err == io.EOF {
			break
		}
		var fe *FrameError
		if errors.As(err, &fe) {
			skipped = append(skipped, fe)
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	if len(skipped) > 0 {
		return out, &SkippedFrames{Frames: skipped}
	}
	return out, nil
}

// packetSource is what pcapgo.Reader and pcapgo.NgReader have in common.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Reader streams IKE datagrams from a capture.
type Reader struct {
	src   packetSource
	ng    bool            // src is a pcapng reader: link type per interface
	link  layers.LinkType // pcap: the file's link type
	frame int
	err   error  // sticky file-level error
	slab  []byte // payload copies are cut from here to avoid one allocation each
}

// slabSize bounds the memory a Reader holds for payload copies it has not
// yet handed out; a payload larger than this gets its own allocation.
const slabSize = 64 << 10

// NewReader sniffs the format of r (pcap in either byte order and time
// resolution, pcapng, or gzip of either) and returns a Reader positioned at
// the first frame. A stream that is none of those yields ErrUnknownFormat.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %d-byte input", ErrUnknownFormat, len(magic))
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", ErrUnknownFormat, err)
		}
		br = bufio.NewReaderSize(gz, 256<<10)
		if magic, err = br.Peek(4); err != nil {
			return nil, fmt.Errorf("%w: %d-byte input", ErrUnknownFormat, len(magic))
		}
	}
	switch m := binary.BigEndian.Uint32(magic); m {
	case 0x0a0d0d0a:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("%w: pcapng: %v", ErrUnknownFormat, err)
		}
		return &Reader{src: ng, ng: true}, nil
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		p, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: pcap: %v", ErrUnknownFormat, err)
		}
		return &Reader{src: p, link: p.LinkType()}, nil
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrUnknownFormat, m)
	}
}

// Next returns the next IKE datagram with its own copy of the payload. It
// returns io.EOF at the end of the file, a *FrameError for a frame it
// skipped (call Next again), and any other error when the file itself is
// damaged (wrapping ErrFile; every later call returns it again).
func (r *Reader) Next() (Datagram, error) {
	d, err := r.NextView()
	if err != nil {
		return d, err
	}
	n := len(d.Payload)
	if n > slabSize/4 {
		d.Payload = bytes.Clone(d.Payload)
		return d, nil
	}
	if len(r.slab) < n {
		r.slab = make([]byte, slabSize)
	}
	p := r.slab[:n:n]
	copy(p, d.Payload)
	r.slab = r.slab[n:]
	d.Payload = p
	return d, nil
}

// NextView is Next without the payload copy: Payload aliases the Reader's
// buffer and is valid only until the next call. It exists for tools that
// print and forget each datagram.
func (r *Reader) NextView() (Datagram, error) {
	for r.err == nil {
		data, ci, err := r.src.ZeroCopyReadPacketData()
		if err == io.EOF {
			r.err = io.EOF
			break
		}
		if err != nil {
			r.err = fmt.Errorf("%w: after frame %d: %v", ErrFile, r.frame, err)
			break
		}
		r.frame++
		link := r.link
		if r.ng {
			if len(ci.AncillaryData) > 0 {
				link, _ = ci.AncillaryData[0].(layers.LinkType)
			}
		}
		d := Datagram{Frame: r.frame, Time: ci.Timestamp}
		ok, err := decodeFrame(link, data, &d)
		if err != nil {
			return Datagram{}, &FrameError{Frame: r.frame, Err: err}
		}
		if ok {
			return d, nil
		}
	}
	return Datagram{}, r.err
}
