package charontest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ChildSA is one CHILD_SA as `swanctl --list-sas --pretty` reports it.
type ChildSA struct {
	// IKE SA the child belongs to.
	IKEName     string // connection name
	IKEUniqueID uint32
	IKEState    string // ESTABLISHED, DELETING, ...

	Name     string // child name (Env.Child)
	UniqueID uint32 // charon's unique id, grows with every rekey
	ReqID    uint32
	State    string // INSTALLED, REKEYING, REKEYED, DELETING, ...
	Mode     string // TUNNEL
	Protocol string // ESP
	Encap    bool   // UDP encapsulation (always with kernel-libipsec)

	// SPIIn is the SPI charon receives on (the peer's outbound SPI);
	// SPIOut the SPI charon sends with.
	SPIIn, SPIOut uint32

	BytesIn, PacketsIn, BytesOut, PacketsOut uint64

	// Installed is how long ago the SA was installed (install-time).
	Installed time.Duration
	// RekeyIn and ExpiresIn are the times left until rekey and expiry
	// (rekey-time, life-time); 0 when not reported.
	RekeyIn, ExpiresIn time.Duration

	LocalTS, RemoteTS []string
}

// ChildSAs lists charon's CHILD_SAs (all IKE SAs), in swanctl's order.
func (e *Env) ChildSAs() ([]ChildSA, error) {
	if e.charon == nil {
		return nil, fmt.Errorf("charontest: charon not running")
	}
	return e.charon.childSAs()
}

func (d *daemon) childSAs() ([]ChildSA, error) {
	out, err := d.swanctl("--list-sas", "--pretty")
	if err != nil {
		return nil, err
	}
	return parseListSAs(out)
}

// viciNode is one section of swanctl's pretty-printed vici message.
type viciNode struct {
	name     string
	kv       map[string]string
	lists    map[string][]string
	children []*viciNode
}

func newViciNode(name string) *viciNode {
	return &viciNode{name: name, kv: map[string]string{}, lists: map[string][]string{}}
}

// parseVici parses swanctl --pretty output: lines `name {`, `}`,
// `key = value`, `key = [`, list items, `]`. It returns a root whose
// children are the top-level messages.
func parseVici(text string) (*viciNode, error) {
	root := newViciNode("")
	stack := []*viciNode{root}
	var list *string // key of the list being read
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		top := stack[len(stack)-1]
		switch {
		case line == "":
		case list != nil:
			if line == "]" {
				list = nil
			} else {
				top.lists[*list] = append(top.lists[*list], line)
			}
		case line == "}":
			if len(stack) == 1 {
				return nil, fmt.Errorf("charontest: vici line %d: unbalanced }", i+1)
			}
			stack = stack[:len(stack)-1]
		case strings.HasSuffix(line, " {"):
			n := newViciNode(strings.TrimSuffix(line, " {"))
			top.children = append(top.children, n)
			stack = append(stack, n)
		case strings.Contains(line, " = "):
			k, v, _ := strings.Cut(line, " = ")
			if v == "[" {
				key := k
				list = &key
				top.lists[k] = nil
			} else {
				top.kv[k] = v
			}
		case strings.HasSuffix(line, " ="): // empty value
			top.kv[strings.TrimSuffix(line, " =")] = ""
		default:
			return nil, fmt.Errorf("charontest: vici line %d: cannot parse %q", i+1, line)
		}
	}
	if len(stack) != 1 || list != nil {
		return nil, fmt.Errorf("charontest: vici output truncated")
	}
	return root, nil
}

// parseListSAs turns `swanctl --list-sas --pretty` output into ChildSAs.
func parseListSAs(text string) ([]ChildSA, error) {
	root, err := parseVici(text)
	if err != nil {
		return nil, err
	}
	var sas []ChildSA
	for _, msg := range root.children {
		if msg.name != "list-sa event" {
			continue
		}
		for _, ike := range msg.children {
			for _, sec := range ike.children {
				if sec.name != "child-sas" {
					continue
				}
				for _, c := range sec.children {
					sa, err := childFromVici(ike, c)
					if err != nil {
						return nil, err
					}
					sas = append(sas, sa)
				}
			}
		}
	}
	return sas, nil
}

func childFromVici(ike, c *viciNode) (ChildSA, error) {
	var errs []string
	num := func(n *viciNode, k string, base, bits int) uint64 {
		v, ok := n.kv[k]
		if !ok {
			return 0
		}
		x, err := strconv.ParseUint(v, base, bits)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s=%q", k, v))
		}
		return x
	}
	secs := func(k string) time.Duration { return time.Duration(num(c, k, 10, 63)) * time.Second }
	sa := ChildSA{
		IKEName:     ike.name,
		IKEUniqueID: uint32(num(ike, "uniqueid", 10, 32)),
		IKEState:    ike.kv["state"],
		Name:        c.kv["name"],
		UniqueID:    uint32(num(c, "uniqueid", 10, 32)),
		ReqID:       uint32(num(c, "reqid", 10, 32)),
		State:       c.kv["state"],
		Mode:        c.kv["mode"],
		Protocol:    c.kv["protocol"],
		Encap:       c.kv["encap"] == "yes",
		SPIIn:       uint32(num(c, "spi-in", 16, 32)),
		SPIOut:      uint32(num(c, "spi-out", 16, 32)),
		BytesIn:     num(c, "bytes-in", 10, 64),
		PacketsIn:   num(c, "packets-in", 10, 64),
		BytesOut:    num(c, "bytes-out", 10, 64),
		PacketsOut:  num(c, "packets-out", 10, 64),
		Installed:   secs("install-time"),
		RekeyIn:     secs("rekey-time"),
		ExpiresIn:   secs("life-time"),
		LocalTS:     c.lists["local-ts"],
		RemoteTS:    c.lists["remote-ts"],
	}
	if sa.Name == "" {
		sa.Name = c.name
	}
	if len(errs) > 0 {
		return sa, fmt.Errorf("charontest: child %s of %s: bad fields %s", c.name, ike.name, strings.Join(errs, ", "))
	}
	return sa, nil
}
