package ladder_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hitless-ike/hitless/props/ladder"
)

// sample is a responder that installs at QM3: the initiator's first ESP
// packet on the new SA arrives before QM3 and is dropped.
func sample() *ladder.Trace {
	return &ladder.Trace{Title: "install-at-qm3 loses a packet", Steps: []ladder.Step{
		{Index: 1, At: 0, Action: "A rekeys", Events: []ladder.Event{
			{Kind: ladder.Sent, Column: ladder.Network, From: ladder.A, Label: "QM1 id=0x01"},
		}},
		{Index: 2, At: 10 * time.Millisecond, Action: "deliver QM1", Events: []ladder.Event{
			{Kind: ladder.Arrived, Column: ladder.Network, From: ladder.A, Label: "QM1 id=0x01"},
			{Kind: ladder.Sent, Column: ladder.Network, From: ladder.B, Label: "QM2 id=0x01"},
		}},
		{Index: 3, At: 20 * time.Millisecond, Action: "deliver QM2", Events: []ladder.Event{
			{Kind: ladder.Arrived, Column: ladder.Network, From: ladder.B, Label: "QM2 id=0x01"},
			{Kind: ladder.Note, Column: ladder.A, Label: "SA activated out spi=0xb2000001"},
			{Kind: ladder.Sent, Column: ladder.Network, From: ladder.A, Label: "ESP spi=0xb2000001"},
		}},
		{Index: 4, At: 30 * time.Millisecond, Action: "lose QM3; deliver ESP", Events: []ladder.Event{
			{Kind: ladder.Lost, Column: ladder.Network, From: ladder.A, Label: "QM3 id=0x01", Bad: true},
			{Kind: ladder.Arrived, Column: ladder.Network, From: ladder.A, Label: "ESP spi=0xb2000001"},
			{Kind: ladder.Dropped, Column: ladder.B, Label: "spi=0xb2000001", Detail: "unknown-spi", Bad: true},
			{Kind: ladder.Violation, Column: ladder.Network, Label: "P1 no-drop", Detail: "B dropped; a;b#c", Bad: true},
		}},
	}}
}

// The ladder's structure: a title, a header naming the three columns,
// one action line per step, and every event line split into exactly three
// columns, each event in its own column; bad events carry ✗.
func TestLadderStructure(t *testing.T) {
	tr := sample()
	lines := strings.Split(strings.TrimSuffix(ladder.Ladder(tr), "\n"), "\n")
	if lines[0] != tr.Title || !strings.Contains(lines[1], "A") || !strings.Contains(lines[1], "| network") || !strings.HasSuffix(lines[1], "| B") {
		t.Fatalf("title/header: %q %q", lines[0], lines[1])
	}
	var steps, events, bad int
	col := -1
	for _, l := range lines[3:] {
		if strings.HasPrefix(l, "#") {
			steps++
			continue
		}
		cells := strings.Split(l, " |")
		if len(cells) != 3 {
			t.Fatalf("event line has %d columns: %q", len(cells), l)
		}
		events++
		for i, c := range cells {
			if strings.TrimSpace(c) != "" {
				col = i
			}
		}
		if strings.Contains(l, "✗") {
			bad++
		}
		if strings.Contains(l, "drop spi=0xb2000001") && col != 2 {
			t.Errorf("B's drop not in B's column: %q", l)
		}
		if strings.Contains(l, "SA activated") && strings.TrimSpace(cells[0]) == "" {
			t.Errorf("A's note not in A's column: %q", l)
		}
	}
	if steps != 4 || events != 10 || bad != 3 {
		t.Errorf("steps %d events %d bad %d, want 4 10 3", steps, events, bad)
	}
	if !strings.Contains(ladder.Ladder(tr), "B→A arrived QM2") || !strings.Contains(ladder.Ladder(tr), "A→B sent ESP") {
		t.Error("datagram direction not shown")
	}
}

// The Mermaid output is a fenced sequenceDiagram with both participants,
// an arrow per arrival, an x-arrow per loss, a note per step, and no
// character that would end a Mermaid statement inside a label.
func TestMermaidStructure(t *testing.T) {
	out := ladder.Mermaid(sample())
	if !strings.HasPrefix(out, "```mermaid\nsequenceDiagram\n    participant A\n    participant B\n") || !strings.HasSuffix(out, "\n```\n") {
		t.Fatalf("frame:\n%s", out)
	}
	body := strings.Split(strings.TrimSuffix(out, "```\n"), "\n")[4:]
	var arrows, lost, notes int
	for _, l := range body {
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "    ") {
			t.Errorf("unindented line %q", l)
		}
		if strings.ContainsAny(l, ";#") {
			t.Errorf("unescaped Mermaid syntax in %q", l)
		}
		switch {
		case strings.Contains(l, "->>"):
			arrows++
		case strings.Contains(l, "-x"):
			lost++
		case strings.Contains(l, "Note over"):
			notes++
		}
	}
	if arrows != 3 || lost != 1 || notes != 1+4+3 {
		t.Errorf("arrows %d lost %d notes %d, want 3 1 8:\n%s", arrows, lost, notes, out)
	}
	if !strings.Contains(out, "A->>B: ESP spi=0xb2000001") || !strings.Contains(out, "B->>A: QM2") {
		t.Errorf("arrow directions:\n%s", out)
	}
}

func ExampleMermaid() {
	tr := &ladder.Trace{Steps: []ladder.Step{{Index: 1, Action: "deliver QM1", Events: []ladder.Event{
		{Kind: ladder.Arrived, Column: ladder.Network, From: ladder.A, Label: "QM1 id=0x01"},
		{Kind: ladder.Note, Column: ladder.B, Label: "SA installed in spi=0xb2000001"},
	}}}}
	fmt.Print(ladder.Mermaid(tr))
	// Output:
	// ```mermaid
	// sequenceDiagram
	//     participant A
	//     participant B
	//     Note over A,B: step 1 t=0.000s deliver QM1
	//     A->>B: QM1 id=0x01
	//     Note over B: SA installed in spi=0xb2000001
	// ```
}

func ExampleLadder() {
	tr := &ladder.Trace{Steps: []ladder.Step{{Index: 1, At: time.Second, Action: "deliver ESP", Events: []ladder.Event{
		{Kind: ladder.Arrived, Column: ladder.Network, From: ladder.A, Label: "ESP spi=0xb2000001"},
		{Kind: ladder.Dropped, Column: ladder.B, Label: "spi=0xb2000001", Detail: "unknown-spi", Bad: true},
	}}}}
	fmt.Print(ladder.Ladder(tr))
	// Output:
	// step      time  A                                    | network                              | B
	// ----  --------  ------------------------------------ | ------------------------------------ | ------------------------------------
	// #1      1.000s  == deliver ESP
	//                                                      | A→B arrived ESP spi=0xb2000001       |
	//                                                      |                                      | ✗ drop spi=0xb2000001 (unknown-spi)
}
