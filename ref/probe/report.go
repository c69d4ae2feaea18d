package probe

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hitless-ike/hitless/ref/peer"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// Report is what a run measured. Times are since the start of the run.
type Report struct {
	Config             ReportConfig  `json:"config"`
	MainMode           time.Duration `json:"main_mode_ns"`
	NATT               bool          `json:"natt"`
	PeerInitialContact bool          `json:"peer_initial_contact"`
	FirstQuickMode     time.Duration `json:"first_quick_mode_ns"`
	// RTT is the median round trip of the probes answered outside any
	// rekey window.
	RTT time.Duration `json:"rtt_ns"`
	// Before counts the probes sent before the first SA (queued by the
	// acquire, or dropped when its queue was full) and those of them
	// unanswered.
	Before     int      `json:"before"`
	BeforeLost int      `json:"before_lost"`
	Rekeys     []*Rekey `json:"rekeys"`
	// Totals over the rekey windows.
	Sent           int `json:"sent"`
	LostToDaemon   int `json:"lost_to_daemon"`
	LostFromDaemon int `json:"lost_from_daemon"`
	// Behaviour is the inferred install timing of the daemon, and
	// Profile the reference profile it matches ("" if none).
	Behaviour string `json:"behaviour"`
	Profile   string `json:"profile,omitempty"`
	// Stray datagrams from other addresses, reads dropped for a full
	// queue, failed sends.
	Stray      uint64 `json:"stray"`
	Overflow   uint64 `json:"overflow"`
	SendErrors uint64 `json:"send_errors"`
	// Rejected IKE messages from the daemon's address (bad HASH,
	// malformed, out of place: the gateway's Reject outputs) and Bogus
	// ESP (for SPIs the probe never had, forged, replayed): neither
	// changed any state, neither counts as lost.
	Rejected int     `json:"rejected"`
	Bogus    int     `json:"bogus"`
	Events   []Event `json:"-"`
	drops    []drop
}

// ReportConfig is the part of the Config a report repeats.
type ReportConfig struct {
	Peer            string        `json:"peer"`
	LocalTS         string        `json:"local_ts"`
	RemoteTS        string        `json:"remote_ts"`
	Rekeys          int           `json:"rekeys"`
	DaemonInitiates bool          `json:"daemon_initiates"`
	Rate            float64       `json:"rate"`
	Interval        time.Duration `json:"interval_ns"`
	QM3Delay        time.Duration `json:"qm3_delay_ns"`
	Profile         string        `json:"profile"`
}

func reportConfig(c *Config) ReportConfig {
	return ReportConfig{Peer: c.Sockets.Peer.String(), LocalTS: c.LocalTS.String(), RemoteTS: c.RemoteTS.String(),
		Rekeys: c.Rekeys, DaemonInitiates: c.DaemonInitiates, Rate: c.Rate, Interval: c.Interval,
		QM3Delay: c.QM3Delay, Profile: c.Profile.Name}
}

// Rekey is one measured rekey.
type Rekey struct {
	Index     int    `json:"index"`
	By        string `json:"by"` // "probe" or "daemon"
	MessageID uint32 `json:"message_id"`
	// Start is when the probe asked for it, or received the daemon's
	// QM1; QM1, QM2 and QM3 when the probe sent or received them.
	Start time.Duration `json:"start_ns"`
	QM1   time.Duration `json:"qm1_ns"`
	QM2   time.Duration `json:"qm2_ns"`
	QM3   time.Duration `json:"qm3_ns"`
	// QM3Arrived is when the daemon's QM3 reached the probe; QM3 is
	// when the probe's gateway took it (later by Config.HoldQM3).
	QM3Arrived time.Duration `json:"qm3_arrived_ns"`
	Completed  bool          `json:"completed"`
	Failed     string        `json:"failed,omitempty"`
	// The new pair: the probe's inbound SPI (the daemon sends on it) and
	// outbound SPI; when the probe activated its new outbound SA; when
	// the first ESP went out on it and when the daemon's first ESP on the
	// new inbound SA arrived.
	NewInSPI  uint32        `json:"new_in_spi"`
	NewOutSPI uint32        `json:"new_out_spi"`
	Activated time.Duration `json:"activated_ns"`
	FirstOut  time.Duration `json:"first_out_ns"`
	FirstIn   time.Duration `json:"first_in_ns"`
	// DeleteAt is when the daemon's Delete of the old pair arrived;
	// DeleteBeforeQM3: it arrived while its QM3 had not.
	DeleteAt        time.Duration `json:"delete_ns"`
	DeleteBeforeQM3 bool          `json:"delete_before_qm3"`
	// The window of probes counted for this rekey, and what they lost.
	From           time.Duration `json:"from_ns"`
	To             time.Duration `json:"to_ns"`
	Sent           int           `json:"sent"`
	LostToDaemon   int           `json:"lost_to_daemon"`
	LostFromDaemon int           `json:"lost_from_daemon"`
	DroppedOut     int           `json:"dropped_out"` // by the probe, outbound (lack of an active SA)
	// EarlySent and EarlyLost: probes sent on the new SA before QM3 left
	// (probe-initiated rekeys).
	EarlySent int    `json:"early_sent"`
	EarlyLost int    `json:"early_lost"`
	Inferred  string `json:"inferred"`
}

// Event is one datagram on the wire (runs of ESP on one SPI folded).
type Event struct {
	At, Until time.Duration
	Out       bool // sent by the probe
	What      string
	MessageID uint32
	SPI       uint32
	Count     int
}

type drop struct {
	at     time.Duration
	dir    peer.Direction
	reason string
	spi    uint32
}

// analyse splits the probes into one window per rekey and counts.
func (rep *Report) analyse(probes []probeRec, c *Config) {
	half := c.Interval / 2
	rs := rep.Rekeys
	for i, rk := range rs {
		rk.From, rk.To = rk.Start-half, rk.Start+half
		if i > 0 {
			rk.From = max(rk.From, (rs[i-1].Start+rk.Start)/2)
		}
		if i+1 < len(rs) {
			rk.To = min(rk.To, (rk.Start+rs[i+1].Start)/2)
		}
	}
	in := func(t time.Duration) *Rekey {
		for _, rk := range rs {
			if t >= rk.From && t < rk.To {
				return rk
			}
		}
		return nil
	}
	var rtts []time.Duration
	for _, p := range probes {
		if rep.FirstQuickMode == 0 || p.sent < rep.FirstQuickMode {
			rep.Before++
			if p.answered == 0 {
				rep.BeforeLost++
			}
			continue
		}
		rk := in(p.sent)
		if rk == nil {
			if p.answered > 0 {
				rtts = append(rtts, p.answered-p.sent)
			}
			continue
		}
		rk.Sent++
		lost := p.answered == 0
		if p.dropped {
			rk.DroppedOut++
		} else if lost {
			rk.LostToDaemon++
		}
		if rk.By == "probe" && rk.QM2 > 0 && p.sent >= rk.QM2 && (rk.QM3 == 0 || p.sent < rk.QM3) {
			rk.EarlySent++
			if lost {
				rk.EarlyLost++
			}
		}
	}
	for _, d := range rep.drops {
		if d.dir != peer.Inbound {
			continue
		}
		if rk := in(d.at); rk != nil {
			// A reply the probe dropped was counted as unanswered.
			rk.LostFromDaemon++
			rk.LostToDaemon = max(0, rk.LostToDaemon-1)
		}
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		rep.RTT = rtts[len(rtts)/2]
	}
	votes := map[string]int{}
	for _, rk := range rs {
		rk.LostToDaemon += rk.DroppedOut
		rep.Sent += rk.Sent
		rep.LostToDaemon += rk.LostToDaemon
		rep.LostFromDaemon += rk.LostFromDaemon
		rk.Inferred = rk.infer()
		votes[rk.Inferred]++
	}
	best := ""
	for k, v := range votes {
		if v > votes[best] || (v == votes[best] && k < best) {
			best = k
		}
	}
	rep.Behaviour = best
	rep.Profile = behaviourProfile[best]
}

// Behaviours a rekey can show.
const (
	ResponderInstallsAtQM3 = "responder installs its inbound SA at QM3"
	ResponderActivatesQM3  = "responder installs inbound at QM1, switches outbound at QM3"
	ResponderActivatesESP  = "responder installs inbound at QM1, switches outbound on the first ESP on the new SA"
	ResponderActivatesQM1  = "responder installs and switches outbound at QM1"
	InitiatorBeforeQM3     = "initiator uses the new SA before its QM3 arrives"
	InitiatorAfterQM3      = "initiator uses the new SA with or after QM3"
	Undetermined           = "undetermined"
)

// behaviourProfile maps a behaviour to the profile it characterises.
var behaviourProfile = map[string]string{
	ResponderInstallsAtQM3: quickmode.InstallAtQM3.Name,
	ResponderActivatesQM3:  quickmode.InboundQM1OutboundQM3.Name,
	ResponderActivatesESP:  quickmode.Hitless.Name,
	ResponderActivatesQM1:  quickmode.ActivateAtQM1.Name,
	// An initiator's timing does not show on the wire as precisely: one
	// that activates at QM2 but sends QM3 first looks like one that
	// activates after QM3, so neither maps to a profile.
}

// infer names the daemon's timing in this rekey from when its new SAs
// took traffic.
func (rk *Rekey) infer() string {
	if !rk.Completed {
		return Undetermined
	}
	if rk.By == "daemon" {
		if rk.FirstIn == 0 {
			return Undetermined
		}
		if rk.FirstIn < rk.QM3Arrived {
			return InitiatorBeforeQM3
		}
		return InitiatorAfterQM3
	}
	// The probe sent on the new SA from QM2 and held QM3 back.
	if rk.EarlySent > 0 && rk.EarlyLost == rk.EarlySent {
		return ResponderInstallsAtQM3
	}
	if rk.EarlySent == 0 || rk.EarlyLost > rk.EarlySent/2 || rk.FirstIn == 0 {
		return Undetermined
	}
	switch {
	case rk.FirstIn < rk.QM2:
		return ResponderActivatesQM1
	case rk.FirstIn < rk.QM3:
		return ResponderActivatesESP
	}
	return ResponderActivatesQM3
}

// WriteJSON writes the report as one JSON object.
func (rep *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(rep)
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// rel is t relative to base, or "-".
func rel(t, base time.Duration) string {
	if t == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1fms", float64(t-base)/float64(time.Millisecond))
}

// WriteText writes the per-rekey table, the verdict and the ladder of one
// rekey (the first that lost packets, else the first).
func (rep *Report) WriteText(w io.Writer) error {
	nat := ""
	if rep.NATT {
		nat = ", UDP-encapsulated (NAT-T)"
	}
	fmt.Fprintf(w, "hitless probe: %s: main mode in %s%s, first quick mode at %s, RTT %s\n",
		rep.Config.Peer, ms(rep.MainMode), nat, ms(rep.FirstQuickMode), ms(rep.RTT))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rekey\tby\tM-ID\tsent\tlost→daemon\tlost←daemon\tQM2\tQM3\tdaemon on new SA\tDelete\tinferred")
	for _, rk := range rep.Rekeys {
		del := rel(rk.DeleteAt, rk.QM1)
		if rk.DeleteBeforeQM3 {
			del += " (before QM3)"
		}
		state := rk.Inferred
		if rk.Failed != "" {
			state = "failed: " + rk.Failed
		}
		fmt.Fprintf(tw, "%d\t%s\t%#08x\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", rk.Index, rk.By, rk.MessageID, rk.Sent,
			rk.LostToDaemon, rk.LostFromDaemon, rel(rk.QM2, rk.QM1), rel(rk.QM3, rk.QM1), rel(rk.FirstIn, rk.QM1), del, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := max(len(rep.Rekeys), 1)
	fmt.Fprintf(w, "total: %d probes in rekey windows, lost to the daemon %d (%.2f/rekey), lost from the daemon %d (%.2f/rekey)\n",
		rep.Sent, rep.LostToDaemon, float64(rep.LostToDaemon)/float64(n), rep.LostFromDaemon, float64(rep.LostFromDaemon)/float64(n))
	races := 0
	for _, rk := range rep.Rekeys {
		if rk.DeleteBeforeQM3 {
			races++
		}
	}
	if races > 0 {
		fmt.Fprintf(w, "the daemon's Delete overtook its QM3 in %d of %d rekeys\n", races, len(rep.Rekeys))
	}
	prof := ""
	if rep.Profile != "" {
		prof = " (profile " + rep.Profile + ")"
	}
	fmt.Fprintf(w, "daemon: %s%s\n", rep.Behaviour, prof)
	if rep.Stray+rep.Overflow+rep.SendErrors > 0 || rep.Rejected+rep.Bogus > 0 {
		fmt.Fprintf(w, "stray datagrams %d, dropped reads %d, failed sends %d, IKE messages rejected %d, bogus ESP %d\n",
			rep.Stray, rep.Overflow, rep.SendErrors, rep.Rejected, rep.Bogus)
	}
	if rk := rep.ladderRekey(); rk != nil {
		fmt.Fprintln(w)
		rep.WriteLadder(w, rk)
	}
	return nil
}

func (rep *Report) ladderRekey() *Rekey {
	for _, rk := range rep.Rekeys {
		if rk.LostToDaemon+rk.LostFromDaemon > 0 || rk.DeleteBeforeQM3 {
			return rk
		}
	}
	if len(rep.Rekeys) > 0 {
		return rep.Rekeys[0]
	}
	return nil
}

// WriteLadder draws the datagrams of one rekey between probe and daemon.
func (rep *Report) WriteLadder(w io.Writer, rk *Rekey) {
	base := cmp.Or(rk.QM1, rk.Start)
	fmt.Fprintf(w, "rekey %d (by the %s, M-ID %#08x), times from QM1:\n", rk.Index, rk.By, rk.MessageID)
	const width = 46
	fmt.Fprintf(w, "%10s  probe%sdaemon\n", "", strings.Repeat(" ", width-3))
	end := rk.To
	if rk.QM3 > 0 {
		end = min(end, rk.QM3+rk.QM3-rk.QM1+50*time.Millisecond)
	}
	qm := 0
	for _, e := range rep.Events {
		if e.At < base-20*time.Millisecond || e.At > end {
			continue
		}
		label := e.What
		switch {
		case e.What == "QM" && e.MessageID == rk.MessageID:
			qm++
			label = fmt.Sprintf("QM%d", min(qm, 3))
		case e.What == "QM" || e.What == "Informational":
			label = fmt.Sprintf("%s %#08x", e.What, e.MessageID)
		case e.What == "ESP":
			tag := "old"
			if e.SPI == rk.NewInSPI || e.SPI == rk.NewOutSPI {
				tag = "new"
			}
			label = fmt.Sprintf("ESP %s spi=%#08x", tag, e.SPI)
			if e.Count > 1 {
				label += fmt.Sprintf(" ×%d to %s", e.Count, rel(e.Until, base))
			}
		}
		line := strings.Repeat("-", width-len([]rune(label))-6)
		if e.Out {
			fmt.Fprintf(w, "%10s  |-- %s %s>|\n", rel(e.At, base), label, line)
		} else {
			fmt.Fprintf(w, "%10s  |<%s %s --|\n", rel(e.At, base), line, label)
		}
	}
	for _, d := range rep.drops {
		if d.at >= base && d.at <= end {
			fmt.Fprintf(w, "%10s  probe dropped %s %s spi=%#08x\n", rel(d.at, base), d.dir, d.reason, d.spi)
		}
	}
	if rk.By == "probe" && rk.EarlySent > 0 {
		fmt.Fprintf(w, "%d of %d probes sent on the new SA before QM3 left were not answered\n", rk.EarlyLost, rk.EarlySent)
	}
}
