package charonlog

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	// Input classes: well-formed multi-line dump, interleaved threads,
	// truncated dump (error), bad hex (error).
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", ""+
		"13:05:36 02[IKE] <v1|1> X => 18 bytes @ 0x1\n"+
		"13:05:36 07[IKE] <v1|1> Y => 1 bytes @ 0x2\n"+
		"13:05:36 02[IKE] <v1|1>    0: 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F  ................\n"+
		"13:05:36 07[IKE] <v1|1>    0: FF                                               .\n"+
		"13:05:36 02[IKE] <v1|1>   16: 10 11                                            AB CD\n")
	l, err := Read(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
	if !bytes.Equal(l.First("X"), want) || !bytes.Equal(l.First("Y"), []byte{0xff}) {
		t.Fatalf("got %x / %x", l.First("X"), l.First("Y"))
	}
	if !bytes.Equal(l.Nth("X", 0), want) || l.Nth("X", 1) != nil || !l.Contains("Y", []byte{0xff}) || l.Contains("Y", []byte{0}) {
		t.Errorf("Nth/Contains disagree with the log")
	}
	for name, s := range map[string]string{
		"truncated": "13:05:36 02[IKE] <v1|1> X => 18 bytes @ 0x1\n13:05:36 02[IKE] <v1|1>    0: 00 01\n",
		"bad hex":   "13:05:36 02[IKE] <v1|1> X => 2 bytes @ 0x1\n13:05:36 02[IKE] <v1|1>    0: 0G 01\n",
	} {
		if _, err := Read(write(name, s)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
