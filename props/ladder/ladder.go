// Package ladder records what happened between two peers during a schedule
// and renders it for people: as a plain-text ladder diagram (columns
// A | network | B over virtual time) and as a Mermaid sequenceDiagram that
// renders inside a pull request.
//
// The trace is plain data, filled in by the property harness (package
// props); this package knows nothing about peers or rapid.
package ladder

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Column is where an event is drawn.
type Column uint8

// Columns, left to right.
const (
	A Column = iota
	Network
	B
)

// String returns "A", "network" or "B".
func (c Column) String() string {
	switch c {
	case A:
		return "A"
	case B:
		return "B"
	}
	return "network"
}

// Kind classifies an event.
type Kind uint8

// Event kinds.
const (
	// Sent: a datagram left From (Label names it) and is now in flight.
	Sent Kind = iota + 1
	// Arrived: an in-flight datagram was delivered From → the other side.
	Arrived
	// Lost: the network lost a datagram.
	Lost
	// Duplicated: the network duplicated a datagram.
	Duplicated
	// Injected: the harness replayed or forged a datagram (Detail says which).
	Injected
	// Note: anything a peer reported (SA installed/activated/deleted, an
	// exchange event, a queued or delivered packet, a rejected message).
	Note
	// Dropped: a peer dropped a packet; Detail is the reason.
	Dropped
	// Violation: a property was violated (Detail says which and why).
	Violation
)

// Event is one line of a ladder.
type Event struct {
	Kind Kind
	// Column is where the event is drawn: Network for datagrams.
	Column Column
	// From is the sender of a datagram (A or B).
	From Column
	// Label is a short name, e.g. "QM1 id=0x000001a1" or "ESP spi=0xb2000010".
	Label string
	// Detail is free text: a drop reason, a classification, a violation.
	Detail string
	// Bad marks events a reader must see (✗): violating drops, violations.
	Bad bool
}

// Step is one action of a schedule and everything it caused.
type Step struct {
	Index  int
	At     time.Duration
	Action string
	Events []Event
}

// Trace is a whole schedule.
type Trace struct {
	Title string
	Steps []Step
}

// Len is the number of steps.
func (t *Trace) Len() int { return len(t.Steps) }

const colWidth = 36

// WriteLadder writes t as a text ladder diagram: a header, then for each
// step a line naming the action and one line per event, each in its
// column. Datagrams are drawn in the network column with an arrow showing
// their direction; bad events are marked with ✗.
func WriteLadder(w io.Writer, t *Trace) error {
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "%s\n", t.Title)
	}
	row(&b, "step", "time", [3]string{"A", "network", "B"})
	row(&b, "----", "--------", [3]string{strings.Repeat("-", colWidth), strings.Repeat("-", colWidth), strings.Repeat("-", colWidth)})
	for _, s := range t.Steps {
		fmt.Fprintf(&b, "#%-4d %8s  == %s\n", s.Index, fmtTime(s.At), s.Action)
		for _, e := range s.Events {
			var cells [3]string
			cells[e.Column] = cellText(e)
			if e.Kind == Violation {
				cells = [3]string{}
				cells[Network] = cellText(e)
			}
			row(&b, "", "", cells)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Ladder returns WriteLadder's text.
func Ladder(t *Trace) string {
	var b strings.Builder
	_ = WriteLadder(&b, t)
	return b.String()
}

func row(b *strings.Builder, step, at string, cells [3]string) {
	var l strings.Builder
	fmt.Fprintf(&l, "%-5s %8s  ", step, at)
	for i, c := range cells {
		l.WriteString(c)
		if i < 2 {
			if n := utf8.RuneCountInString(c); n < colWidth {
				l.WriteString(strings.Repeat(" ", colWidth-n))
			}
			l.WriteString(" | ")
		}
	}
	b.WriteString(strings.TrimRight(l.String(), " "))
	b.WriteByte('\n')
}

func cellText(e Event) string {
	dir := "A→B "
	if e.From == B {
		dir = "B→A "
	}
	var s string
	switch e.Kind {
	case Sent:
		s = dir + "sent " + e.Label
	case Arrived:
		s = dir + "arrived " + e.Label
	case Lost:
		s = "✗ " + dir + "lost " + e.Label
	case Duplicated:
		s = dir + "duplicated " + e.Label
	case Injected:
		s = dir + e.Detail + " " + e.Label
	case Dropped:
		s = "drop " + e.Label + " (" + e.Detail + ")"
	case Violation:
		s = "VIOLATION " + e.Label + ": " + e.Detail
	default:
		s = e.Label
		if e.Detail != "" {
			s += " " + e.Detail
		}
	}
	if e.Bad && e.Kind != Lost {
		s = "✗ " + s
	}
	return s
}

func fmtTime(d time.Duration) string {
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// Mermaid returns t as a Mermaid sequenceDiagram inside a Markdown fenced
// block. Datagrams are arrows drawn when they arrive (lost ones end in x);
// everything else is a note over the peer concerned.
func Mermaid(t *Trace) string {
	var b strings.Builder
	b.WriteString("```mermaid\nsequenceDiagram\n")
	b.WriteString("    participant A\n    participant B\n")
	if t.Title != "" {
		fmt.Fprintf(&b, "    Note over A,B: %s\n", mermaidText(t.Title))
	}
	for _, s := range t.Steps {
		fmt.Fprintf(&b, "    Note over A,B: step %d t=%s %s\n", s.Index, fmtTime(s.At), mermaidText(s.Action))
		for _, e := range s.Events {
			from, to := "A", "B"
			if e.From == B {
				from, to = "B", "A"
			}
			over := "A"
			if e.Column == B {
				over = "B"
			} else if e.Column == Network {
				over = "A,B"
			}
			text := mermaidText(cellText(e))
			switch e.Kind {
			case Sent:
				// drawn on arrival
			case Arrived:
				fmt.Fprintf(&b, "    %s->>%s: %s\n", from, to, mermaidText(e.Label))
			case Lost:
				fmt.Fprintf(&b, "    %s-x%s: lost %s\n", from, to, mermaidText(e.Label))
			case Injected:
				fmt.Fprintf(&b, "    %s-)%s: %s %s\n", from, to, mermaidText(e.Detail), mermaidText(e.Label))
			case Violation:
				fmt.Fprintf(&b, "    Note over A,B: %s\n", text)
			default:
				fmt.Fprintf(&b, "    Note over %s: %s\n", over, text)
			}
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// mermaidText keeps a label on one line and away from Mermaid's syntax:
// ';' ends a statement and '#' starts an entity code.
func mermaidText(s string) string { return mermaidEscaper.Replace(s) }

var mermaidEscaper = strings.NewReplacer(";", ",", "#", "no.", "\n", " ", "<", "‹", ">", "›")
