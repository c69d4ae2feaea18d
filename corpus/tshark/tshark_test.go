package tshark

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// snippet is trimmed tshark 4.0 PDML for one ISAKMP datagram: a header
// line, a geninfo proto, and an attribute and an ID whose bytes are split
// into typed children.
const snippet = `<?xml version="1.0" encoding="utf-8"?>
<pdml version="0" creator="wireshark/4.0.17">
<packet>
  <proto name="geninfo" pos="0" showname="General information" size="146">
    <field name="num" pos="0" show="7" showname="Number" value="7" size="146"/>
  </proto>
  <proto name="isakmp" showname="Internet Security Association and Key Management Protocol" size="104" pos="42">
    <field name="isakmp.exchangetype" show="32" value="20" size="1"/>
    <field name="isakmp.typepayload" show="1" size="56">
      <field name="isakmp.ipsec.attr" show="Encapsulation-Mode (4): Tunnel (1)" size="4">
        <field name="isakmp.ipsec.attr.format" show="1" value="1" size="1"/>
        <field name="isakmp.ipsec.attr.type" show="4" value="0004" size="2"/>
        <field name="isakmp.ipsec.attr.value" show="1" value="0001" size="2"/>
      </field>
      <field name="isakmp.id.data" show="" size="8">
        <field name="isakmp.id.ipv4_addr" show="10.99.0.0" value="0a630000" size="4"/>
        <field name="isakmp.id.ipv4_mask" show="255.255.255.0" value="ffffff00" size="4"/>
      </field>
    </field>
  </proto>
</packet>
<packet>
  <proto name="isakmp"/>
</packet>
</pdml>
`

func TestDecode(t *testing.T) {
	ps, err := Decode(strings.NewReader(snippet))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d packets, want 2", len(ps))
	}
	if n := ps[0].Frame(); n != 7 {
		t.Errorf("frame %d, want 7", n)
	}
	// Input class: packet without geninfo.
	if n := ps[1].Frame(); n != 0 {
		t.Errorf("frame %d for a packet without geninfo, want 0", n)
	}
	isakmp := ps[0].Protos[1]
	if et, ok := Lookup(isakmp.Fields, "isakmp.exchangetype"); !ok || et.Show != "32" || et.Value != "20" || et.Size != "1" {
		t.Errorf("exchangetype %+v, %v", et, ok)
	}
	tp, ok := Lookup(isakmp.Fields, "typepayload")
	if !ok || len(tp.Fields) != 2 {
		t.Fatalf("typepayload %+v, %v", tp, ok)
	}
	attr := tp.Fields[0]
	typ, ok1 := Lookup(attr.Fields, "type")
	val, ok2 := Lookup(attr.Fields, "value")
	if !ok1 || !ok2 || typ.Show != "4" || val.Value != "0001" {
		t.Errorf("attribute type %+v, value %+v", typ, val)
	}
	// Input class: a name that is only a suffix of another, not a
	// dot-separated last part.
	if f, ok := Lookup(attr.Fields, "ype"); ok {
		t.Errorf("Lookup(ype) found %+v", f)
	}
	if got := attr.Child("format").Show + "/" + attr.Child("missing").Show; got != "1/" {
		t.Errorf("Child: %q, want %q", got, "1/")
	}
	if got := tp.Fields[1].JoinValues(); got != "0a630000ffffff00" {
		t.Errorf("JoinValues %q", got)
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range []struct{ class, in string }{
		{"truncated document", snippet[:len(snippet)/2]},
		{"mismatched end tag", `<pdml><packet><proto></packet></pdml>`},
		{"not XML", "\x00\x01"},
	} {
		ps, err := Decode(strings.NewReader(c.in))
		if !errors.Is(err, ErrMalformed) || ps != nil {
			t.Errorf("%s: %d packets, error %v; want ErrMalformed", c.class, len(ps), err)
		}
	}
	// Input class: no packets at all is well-formed and empty.
	if ps, err := Decode(strings.NewReader(`<pdml></pdml>`)); err != nil || len(ps) != 0 {
		t.Errorf("empty PDML: %v, %v", ps, err)
	}
}

// TestNotInstalled covers the input class "no tshark on $PATH".
func TestNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if p, err := Find(); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("Find() = %q, %v; want ErrNotInstalled", p, err)
	}
}

// TestRunError covers the input class "tshark cannot read the capture":
// the error carries tshark's stderr.
func TestRunError(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Skip(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	_, err = Run(path, missing, Options{ConfigDir: t.TempDir()})
	var re *RunError
	if !errors.As(err, &re) || len(re.Stderr) == 0 {
		t.Fatalf("Run on a missing file: %v", err)
	}
}

func TestSideBySide(t *testing.T) {
	got := SideBySide([]string{"a=1", "b=2"}, []string{"a=1", "b=3", "c=4"})
	want := "   ours" + strings.Repeat(" ", 56) + " | tshark\n" +
		"   a=1" + strings.Repeat(" ", 57) + " | a=1\n" +
		"!! b=2" + strings.Repeat(" ", 57) + " | b=3\n" +
		"!! " + strings.Repeat(" ", 60) + " | c=4\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
