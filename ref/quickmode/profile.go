package quickmode

import "fmt"

// Stage is a point in a Quick Mode exchange at which a Profile installs or
// activates an SA.
type Stage uint8

// Stages. Which stages a Profile field accepts is listed on the field.
const (
	StageNever Stage = iota // invalid in a Profile; the zero value
	// StageQM1: the responder has verified QM1 (before it sends QM2).
	StageQM1
	// StageQM2: the initiator has verified QM2, before it sends QM3.
	StageQM2
	// StageQM3: the responder has verified QM3.
	StageQM3
	// StageAfterQM3: the initiator has sent QM3.
	StageAfterQM3
	// StageFirstESPOrQM3: the responder has seen an ESP packet
	// authenticated on the new inbound SA, or QM3, whichever is first.
	StageFirstESPOrQM3
	// StageConnected: the commit-bit CONNECTED notify was sent
	// (responder) or verified (initiator).
	StageConnected
)

var stageNames = [...]string{"never", "qm1", "qm2", "qm3", "after-qm3", "first-esp-or-qm3", "connected"}

// String returns the stage name, e.g. "qm1".
func (s Stage) String() string {
	if int(s) < len(stageNames) {
		return stageNames[s]
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// Profile says when each side of a Quick Mode exchange installs its new
// inbound and outbound SAs and when it starts protecting traffic with the
// new outbound SA (activates it). Every profile runs through the same code;
// only these values differ.
type Profile struct {
	Name string
	// ResponderInbound: StageQM1 or StageQM3.
	ResponderInbound Stage
	// ResponderOutbound (install): StageQM1 or StageQM3.
	ResponderOutbound Stage
	// ResponderActivate: StageQM1, StageQM3, StageFirstESPOrQM3 or
	// StageConnected; never before ResponderOutbound.
	ResponderActivate Stage
	// InitiatorInbound, InitiatorOutbound: StageQM2 or StageAfterQM3.
	InitiatorInbound, InitiatorOutbound Stage
	// InitiatorActivate: StageQM2, StageAfterQM3 or StageConnected; never
	// before InitiatorOutbound.
	InitiatorActivate Stage
	// CommitBit makes the initiator set the commit bit in QM1 and the
	// responder in QM2, and the responder answer QM3 with CONNECTED
	// (RFC 2408 §3.1, RFC 2409 §5.5). A responder also honours the bit in
	// a QM1, and an initiator that gets QM2 with the bit set activates
	// only at CONNECTED, whatever InitiatorActivate says.
	CommitBit bool
}

// Predefined profiles, named as in DESIGN.md.
var (
	// Hitless: the responder installs both SAs once QM1 verifies and
	// activates outbound on the first ESP packet authenticated on the new
	// inbound SA or on QM3, whichever is first; the initiator installs
	// and activates at QM2, before it sends QM3 and any ESP. This project;
	// RFC 2408 §3.1 leaves the timing to the implementation.
	Hitless = Profile{Name: "hitless",
		ResponderInbound: StageQM1, ResponderOutbound: StageQM1, ResponderActivate: StageFirstESPOrQM3,
		InitiatorInbound: StageQM2, InitiatorOutbound: StageQM2, InitiatorActivate: StageQM2}
	// InstallAtQM3: strongSwan 5.9 IKEv1 (quick_mode.c): the responder
	// installs and activates both SAs when QM3 verifies; the initiator
	// installs both while processing QM2, before building QM3.
	InstallAtQM3 = Profile{Name: "install-at-qm3",
		ResponderInbound: StageQM3, ResponderOutbound: StageQM3, ResponderActivate: StageQM3,
		InitiatorInbound: StageQM2, InitiatorOutbound: StageQM2, InitiatorActivate: StageQM2}
	// InboundQM1OutboundQM3: libreswan 4.x (ikev1_quick.c): the responder
	// installs its inbound SA while answering QM1 and its outbound SA
	// when QM3 arrives.
	InboundQM1OutboundQM3 = Profile{Name: "inbound-qm1-outbound-qm3",
		ResponderInbound: StageQM1, ResponderOutbound: StageQM3, ResponderActivate: StageQM3,
		InitiatorInbound: StageQM2, InitiatorOutbound: StageQM2, InitiatorActivate: StageQM2}
	// ActivateAtQM1: a naive responder that installs and starts using
	// both SAs as soon as QM1 verifies, before the initiator has QM2.
	ActivateAtQM1 = Profile{Name: "activate-at-qm1",
		ResponderInbound: StageQM1, ResponderOutbound: StageQM1, ResponderActivate: StageQM1,
		InitiatorInbound: StageQM2, InitiatorOutbound: StageQM2, InitiatorActivate: StageQM2}
	// InitiatorAfterQM3: KAME racoon (isakmp_quick.c): the initiator
	// sends QM3 and then installs its SAs; the responder installs at QM3.
	InitiatorAfterQM3 = Profile{Name: "initiator-after-qm3",
		ResponderInbound: StageQM3, ResponderOutbound: StageQM3, ResponderActivate: StageQM3,
		InitiatorInbound: StageAfterQM3, InitiatorOutbound: StageAfterQM3, InitiatorActivate: StageAfterQM3}
	// CommitBit: RFC 2408 §3.1 / RFC 2409 §5.5 commit bit. The responder
	// installs at QM3, answers with CONNECTED and activates; the initiator
	// installs at QM2 but activates only once CONNECTED verifies.
	CommitBit = Profile{Name: "commit-bit",
		ResponderInbound: StageQM3, ResponderOutbound: StageQM3, ResponderActivate: StageConnected,
		InitiatorInbound: StageQM2, InitiatorOutbound: StageQM2, InitiatorActivate: StageConnected,
		CommitBit: true}
)

// Profiles lists the predefined profiles in DESIGN.md order.
var Profiles = []Profile{Hitless, InstallAtQM3, InboundQM1OutboundQM3, ActivateAtQM1, InitiatorAfterQM3, CommitBit}

// String returns the profile name.
func (p Profile) String() string { return p.Name }

// ParseProfile returns the predefined profile called name.
func ParseProfile(name string) (Profile, error) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, newErr(ErrBadConfig, 0, fmt.Sprintf("unknown profile %q", name), nil)
}

// order ranks stages in time so "activate never before install" can be
// checked; StageFirstESPOrQM3 may come before QM3 but never before QM1.
func order(s Stage) int {
	switch s {
	case StageQM1:
		return 1
	case StageQM2:
		return 2
	case StageFirstESPOrQM3:
		return 3
	case StageQM3, StageAfterQM3:
		return 4
	case StageConnected:
		return 5
	}
	return 0
}

// Validate reports whether every field holds a stage its side can reach.
func (p Profile) Validate() error {
	bad := func(field string, s Stage) error {
		return newErr(ErrBadConfig, 0, fmt.Sprintf("profile %q: %s cannot be %v", p.Name, field, s), nil)
	}
	in := func(s Stage, ok ...Stage) bool {
		for _, o := range ok {
			if s == o {
				return true
			}
		}
		return false
	}
	switch {
	case !in(p.ResponderInbound, StageQM1, StageQM3):
		return bad("ResponderInbound", p.ResponderInbound)
	case !in(p.ResponderOutbound, StageQM1, StageQM3):
		return bad("ResponderOutbound", p.ResponderOutbound)
	case !in(p.ResponderActivate, StageQM1, StageQM3, StageFirstESPOrQM3, StageConnected),
		order(p.ResponderActivate) < order(p.ResponderOutbound):
		return bad("ResponderActivate", p.ResponderActivate)
	case p.ResponderActivate == StageFirstESPOrQM3 && (p.ResponderInbound != StageQM1 || p.ResponderOutbound != StageQM1):
		// The ESP trigger needs the new inbound SA installed, and the
		// outbound SA ready to activate, before QM3.
		return bad("ResponderActivate", p.ResponderActivate)
	case p.ResponderActivate == StageConnected && !p.CommitBit:
		return bad("ResponderActivate", p.ResponderActivate)
	case !in(p.InitiatorInbound, StageQM2, StageAfterQM3):
		return bad("InitiatorInbound", p.InitiatorInbound)
	case !in(p.InitiatorOutbound, StageQM2, StageAfterQM3):
		return bad("InitiatorOutbound", p.InitiatorOutbound)
	case !in(p.InitiatorActivate, StageQM2, StageAfterQM3, StageConnected),
		order(p.InitiatorActivate) < order(p.InitiatorOutbound):
		return bad("InitiatorActivate", p.InitiatorActivate)
	case p.InitiatorActivate == StageConnected && !p.CommitBit:
		return bad("InitiatorActivate", p.InitiatorActivate)
	}
	return nil
}
