// Package tshark runs tshark over a capture and reads its PDML, for
// differential tests against an independent dissector.
//
// PDML (tshark -T pdml) is used rather than -T json because tshark's JSON
// repeats keys inside one object (one "isakmp.typepayload" per payload),
// which a decoder into maps silently collapses; PDML keeps every field in
// dissection order.
package tshark

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNotInstalled is returned by [Find] when no tshark is on $PATH; tests
// skip on it rather than fail, since Wireshark is an optional dependency.
var ErrNotInstalled = errors.New("tshark: not installed (apt-get install tshark)")

// ErrMalformed is wrapped by the errors of [Decode] when its input is not
// well-formed PDML.
var ErrMalformed = errors.New("tshark: malformed PDML")

// Field is one <field> of a PDML protocol tree.
type Field struct {
	Name   string  `xml:"name,attr"`  // filter name, such as "isakmp.nonce"
	Show   string  `xml:"show,attr"`  // displayed value, such as "32" or "Quick Mode (32)"
	Value  string  `xml:"value,attr"` // raw bytes in hex
	Size   string  `xml:"size,attr"`  // length in bytes, as tshark printed it
	Fields []Field `xml:"field"`      // subtree, in dissection order
}

// Proto is one <proto> of a PDML packet: the fields one dissector added.
type Proto struct {
	Name   string  `xml:"name,attr"`
	Fields []Field `xml:"field"`
}

// Packet is one <packet> of PDML: its protocols, outermost first.
type Packet struct {
	Protos []Proto `xml:"proto"`
}

// Frame returns the packet's frame number (geninfo's "num" field), or 0
// when tshark did not report one.
func (p *Packet) Frame() int {
	for _, pr := range p.Protos {
		if pr.Name != "geninfo" {
			continue
		}
		if f, ok := Lookup(pr.Fields, "num"); ok {
			n, _ := strconv.Atoi(f.Show)
			return n
		}
	}
	return 0
}

// Lookup returns the first of fields whose name is name or ends in
// "."+name, so that "type" finds both "isakmp.ike.attr.type" and
// "isakmp.ipsec.attr.type". It does not descend into subtrees.
func Lookup(fields []Field, name string) (Field, bool) {
	for _, f := range fields {
		if f.Name == name || strings.HasSuffix(f.Name, name) && strings.HasSuffix(f.Name[:len(f.Name)-len(name)], ".") {
			return f, true
		}
	}
	return Field{}, false
}

// Child returns f's direct child that [Lookup] finds by name, or a zero
// Field (empty Show and Value) when there is none.
func (f *Field) Child(name string) Field {
	c, _ := Lookup(f.Fields, name)
	return c
}

// JoinValues returns the raw hex of f's direct children in order: the
// bytes of a field tshark dissects into typed parts (an address and a
// mask, say) without a raw value of its own.
func (f *Field) JoinValues() string {
	var b strings.Builder
	for _, c := range f.Fields {
		b.WriteString(c.Value)
	}
	return b.String()
}

// Options tune one tshark run.
type Options struct {
	// Filter is a display filter (-Y): only matching packets are output.
	Filter string
	// ConfigDir, when set, becomes WIRESHARK_CONFIG_DIR, so that tshark
	// reads preferences and UAT tables (decryption keys) from there rather
	// than from the user's profile.
	ConfigDir string
	// Args are further arguments, such as "-O", "isakmp".
	Args []string
}

// RunError reports a tshark run that failed, with what it wrote to stderr.
type RunError struct {
	Err    error
	Stderr []byte
}

// Error includes tshark's stderr, which names the actual problem.
func (e *RunError) Error() string { return fmt.Sprintf("tshark: %v\n%s", e.Err, e.Stderr) }

// Unwrap returns the error of the run itself.
func (e *RunError) Unwrap() error { return e.Err }

// Find returns the path of tshark on $PATH, or an error wrapping
// [ErrNotInstalled].
func Find() (string, error) {
	p, err := exec.LookPath("tshark")
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	return p, nil
}

// Run runs the tshark at path over the capture file without name
// resolution (-n) and returns the packets of its PDML output.
func Run(path, capture string, o Options) ([]Packet, error) {
	args := []string{"-r", capture, "-n", "-T", "pdml"}
	if o.Filter != "" {
		args = append(args, "-Y", o.Filter)
	}
	cmd := exec.Command(path, append(args, o.Args...)...)
	if o.ConfigDir != "" {
		cmd.Env = append(os.Environ(), "WIRESHARK_CONFIG_DIR="+o.ConfigDir)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &RunError{Err: err, Stderr: stderr.Bytes()}
	}
	return Decode(bytes.NewReader(out))
}

// Decode reads PDML and returns its packets in order. Elements other than
// <packet> and their contents are skipped.
func Decode(r io.Reader) ([]Packet, error) {
	dec := xml.NewDecoder(r)
	var packets []Packet
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return packets, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "packet" {
			continue
		}
		var p Packet
		if err := dec.DecodeElement(&p, &se); err != nil {
			return nil, fmt.Errorf("%w: packet %d: %v", ErrMalformed, len(packets)+1, err)
		}
		packets = append(packets, p)
	}
}

// SideBySide renders two views of one message, ours and tshark's, as
// columns, marking the lines that differ with "!!", for the failure
// message of a differential test.
func SideBySide(ours, theirs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "   %-60s | %s\n", "ours", "tshark")
	for i := 0; i < len(ours) || i < len(theirs); i++ {
		var o, th string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			th = theirs[i]
		}
		mark := "  "
		if o != th {
			mark = "!!"
		}
		fmt.Fprintf(&b, "%s %-60.60s | %.60s\n", mark, o, th)
	}
	return b.String()
}
