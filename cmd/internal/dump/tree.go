package dump

import (
	"encoding/hex"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// The dump is built once per datagram as a small tree, then rendered as
// indented text or as one JSON line. Building a tree first keeps the two
// renderings identical in content; the node slice is reused across
// datagrams, so a dump allocates little beyond what parsing does.

type nodeKind uint8

const (
	kObj  nodeKind = iota // children are keyed fields
	kList                 // children are unkeyed elements
	kNum
	kStr
	kHex
	kBool
	kTime
	kAddr
)

type node struct {
	kind  nodeKind
	key   string // JSON key; unused for list elements
	label string // text label; key when empty
	name  string // registry name of a number, or the title of an object
	str   string
	hex   []byte
	num   uint64
	tm    time.Time
	ap    netip.AddrPort
	width int8 // text: print num as 0x%0*x
	// jsonOnly leaves a node out of the text rendering (the heading of
	// its parent already says it); collapse prints only an object's title.
	jsonOnly, collapse bool
	first              int32
	last               int32
	next               int32
}

type tree struct{ n []node }

func (t *tree) reset() {
	t.n = t.n[:0]
	t.n = append(t.n, node{kind: kObj, first: -1, last: -1, next: -1})
}

func (t *tree) add(parent int32, n node) int32 {
	n.first, n.last, n.next = -1, -1, -1
	i := int32(len(t.n))
	t.n = append(t.n, n)
	p := &t.n[parent]
	if p.last < 0 {
		p.first = i
	} else {
		t.n[p.last].next = i
	}
	p.last = i
	return i
}

// obj adds a keyed object; title is its heading in text output.
func (t *tree) obj(p int32, key, title string) int32 {
	return t.add(p, node{kind: kObj, key: key, name: title})
}

func (t *tree) list(p int32, key string) int32 { return t.add(p, node{kind: kList, key: key}) }

// hide marks the last node added as JSON-only.
func (t *tree) hide() { t.n[len(t.n)-1].jsonOnly = true }

func (t *tree) num(p int32, key, label string, v uint64, name string) {
	t.add(p, node{kind: kNum, key: key, label: label, num: v, name: name})
}

func (t *tree) hexnum(p int32, key, label string, v uint64, width int8) {
	t.add(p, node{kind: kNum, key: key, label: label, num: v, width: width})
}

func (t *tree) str(p int32, key, label, s string) {
	t.add(p, node{kind: kStr, key: key, label: label, str: s})
}

func (t *tree) bytes(p int32, key, label string, b []byte) {
	t.add(p, node{kind: kHex, key: key, label: label, hex: b})
}

func (t *tree) boolean(p int32, key, label string, v bool) {
	var n uint64
	if v {
		n = 1
	}
	t.add(p, node{kind: kBool, key: key, label: label, num: n})
}

// text renders the tree as indented lines, two spaces a level.
func (t *tree) text(b []byte) []byte {
	return t.textKids(b, 0, 0)
}

func (t *tree) textKids(b []byte, i int32, depth int) []byte {
	for c := t.n[i].first; c >= 0; c = t.n[c].next {
		b = t.textNode(b, c, depth)
	}
	return b
}

func indent(b []byte, depth int) []byte {
	for range depth {
		b = append(b, ' ', ' ')
	}
	return b
}

func (t *tree) textNode(b []byte, i int32, depth int) []byte {
	n := &t.n[i]
	if n.jsonOnly {
		return b
	}
	if n.kind == kList {
		return t.textKids(b, i, depth)
	}
	b = indent(b, depth)
	label := n.label
	if label == "" {
		label = n.key
	}
	switch n.kind {
	case kObj:
		if n.name != "" {
			b = append(b, n.name...)
		} else {
			b = append(b, label...)
		}
		b = append(b, '\n')
		if n.collapse {
			return b
		}
		return t.textKids(b, i, depth+1)
	case kNum:
		b = append(b, label...)
		b = append(b, ": "...)
		switch {
		case n.width > 0:
			b = append(b, "0x"...)
			h := strconv.FormatUint(n.num, 16)
			for range int(n.width) - len(h) {
				b = append(b, '0')
			}
			b = append(b, h...)
		case n.name != "":
			b = append(b, n.name...)
			b = append(b, " ("...)
			b = strconv.AppendUint(b, n.num, 10)
			b = append(b, ')')
		default:
			b = strconv.AppendUint(b, n.num, 10)
		}
	case kStr:
		b = append(b, label...)
		b = append(b, ": "...)
		b = append(b, n.str...)
	case kHex:
		b = append(b, label...)
		b = append(b, ": "...)
		if len(n.hex) == 0 {
			b = append(b, "(empty)"...)
		}
		b = hex.AppendEncode(b, n.hex)
	case kBool:
		b = append(b, label...)
		b = append(b, ": "...)
		b = strconv.AppendBool(b, n.num != 0)
	case kTime:
		b = append(b, label...)
		b = append(b, ": "...)
		b = n.tm.AppendFormat(b, time.RFC3339Nano)
	case kAddr:
		b = append(b, label...)
		b = append(b, ": "...)
		b = n.ap.AppendTo(b)
	}
	return append(b, '\n')
}

// json renders the tree as one JSON object on one line, newline-terminated.
func (t *tree) json(b []byte) []byte {
	b = t.jsonValue(b, 0)
	return append(b, '\n')
}

func (t *tree) jsonValue(b []byte, i int32) []byte {
	n := &t.n[i]
	switch n.kind {
	case kObj, kList:
		open, close := byte('{'), byte('}')
		if n.kind == kList {
			open, close = '[', ']'
		}
		b = append(b, open)
		first := true
		for c := n.first; c >= 0; c = t.n[c].next {
			if !first {
				b = append(b, ',')
			}
			first = false
			cn := &t.n[c]
			if n.kind == kObj {
				// Keys are this package's ASCII constants: no escaping needed.
				b = append(b, '"')
				b = append(b, cn.key...)
				b = append(b, '"', ':')
			}
			b = t.jsonValue(b, c)
			if n.kind == kObj && cn.kind == kNum && cn.name != "" {
				b = append(b, ',', '"')
				b = append(b, cn.key...)
				b = append(b, `_name":`...)
				b = appendJSONString(b, cn.name)
			}
		}
		return append(b, close)
	case kNum:
		return strconv.AppendUint(b, n.num, 10)
	case kStr:
		return appendJSONString(b, n.str)
	case kHex:
		b = append(b, '"')
		b = hex.AppendEncode(b, n.hex)
		return append(b, '"')
	case kBool:
		return strconv.AppendBool(b, n.num != 0)
	case kTime:
		b = append(b, '"')
		b = n.tm.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	case kAddr:
		b = append(b, '"')
		b = n.ap.AppendTo(b)
		return append(b, '"')
	}
	return b
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
