package simcmd

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hitless-ike/hitless/props/effect"
	"github.com/hitless-ike/hitless/ref/peer"
)

// Row is one profile's line of output, in every format.
type Row struct {
	Profile   string `json:"profile"`
	Sent      uint64 `json:"sent"`
	Delivered uint64 `json:"delivered"`
	// NetLost is ESP lost by the network; Dropped every packet a peer
	// dropped, LackOfActiveSA those dropped for lack of an active SA
	// (FirstNegotiation of them before both sides completed their first
	// Quick Mode), and Drops all of them by reason.
	NetLost          uint64            `json:"net_lost"`
	Dropped          uint64            `json:"dropped"`
	LackOfActiveSA   uint64            `json:"lack_of_active_sa"`
	FirstNegotiation uint64            `json:"lack_first_negotiation"`
	Drops            map[string]uint64 `json:"drops"`
	// Rekeys completed by an initiator (first negotiations excluded),
	// Collided exchanges that met another for the same flow, Failed ones.
	Rekeys   uint64 `json:"rekeys"`
	Collided uint64 `json:"collided"`
	Failed   uint64 `json:"failed"`
	// LossPerRekey is LackOfActiveSA / Rekeys; MaxPerActivation the most
	// drops within ±1 s of one SA activation.
	LossPerRekey     float64 `json:"loss_per_rekey"`
	MaxPerActivation uint64  `json:"max_loss_per_activation"`
	// Added one-way latency above the base delay (the jitter).
	AddedP50 effect.Duration `json:"added_p50"`
	AddedP99 effect.Duration `json:"added_p99"`
	AddedMax effect.Duration `json:"added_max"`
	// Reached is the virtual time simulated (less than the duration only
	// when interrupted).
	Reached effect.Duration `json:"reached"`
}

// Rows reduces a report to its rows.
func (r *Report) Rows() []Row {
	rows := make([]Row, len(r.Outcomes))
	for i, o := range r.Outcomes {
		res := &o.Result
		row := Row{
			Profile: o.Profile, Sent: res.Sent, Delivered: res.Delivered, NetLost: res.Net.ESPLost,
			Dropped: res.Dropped, LackOfActiveSA: res.LackOfActiveSA, FirstNegotiation: o.FirstLack, Drops: map[string]uint64{},
			Rekeys: o.Rekeys, Collided: res.Exchanges.Collided, Failed: res.Exchanges.Failed,
			LossPerRekey: o.LossPerRekey(), MaxPerActivation: res.Rekeys.MaxLoss,
			AddedP50: effect.Duration(res.AddedLatency.P50), AddedP99: effect.Duration(res.AddedLatency.P99),
			AddedMax: effect.Duration(res.AddedLatency.Max), Reached: effect.Duration(res.Now),
		}
		for _, d := range res.Drops {
			row.Drops[d.Reason] = d.Count
		}
		rows[i] = row
	}
	return rows
}

// reasons are the CSV's drop columns: every reason a peer can give, in a
// fixed order; anything else is summed under "other".
var reasons = []string{peer.ReasonUnknownSPI, peer.ReasonNoActiveSA, peer.ReasonReplay, peer.ReasonAuthFailed,
	peer.ReasonExpired, peer.ReasonMalformed, peer.ReasonDummy, peer.ReasonQueueFull, peer.ReasonNoFlow,
	peer.ReasonNegotiation, peer.ReasonUnencrypted}

func dur(d effect.Duration) string {
	return time.Duration(d).Round(time.Microsecond).String()
}

func dropList(m map[string]uint64) string {
	var parts []string
	for _, r := range reasons {
		if n := m[r]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", r, n))
		}
	}
	if n := other(m); n > 0 {
		parts = append(parts, fmt.Sprintf("other=%d", n))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func other(m map[string]uint64) uint64 {
	var n uint64
	for r, c := range m {
		known := false
		for _, k := range reasons {
			known = known || k == r
		}
		if !known {
			n += c
		}
	}
	return n
}

// WriteTable writes an aligned table, one line per profile, and a
// footer when the run was interrupted.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\tsent\tdelivered\tnet lost\tlack of SA\tof which 1st QM\trekeys\tcollided\tloss/rekey\tmax/activation\tadded p50\tp99\tmax\tdrops by reason\t")
	for _, x := range r.Rows() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%d\t%s\t%s\t%s\t%s\t\n", x.Profile, x.Sent, x.Delivered,
			x.NetLost, x.LackOfActiveSA, x.FirstNegotiation, x.Rekeys, x.Collided, x.LossPerRekey, x.MaxPerActivation,
			dur(x.AddedP50), dur(x.AddedP99), dur(x.AddedMax), dropList(x.Drops))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	r.footer(w)
	return nil
}

func (r *Report) footer(w io.Writer) {
	if !r.Interrupted {
		return
	}
	fmt.Fprintf(w, "interrupted: partial results")
	for i, o := range r.Outcomes {
		fmt.Fprintf(w, "; %s reached %v in %d of %d shards", o.Profile, o.Result.Now, r.Shards[i], r.Scenario.Shards())
	}
	fmt.Fprintln(w)
}

// WriteCSV writes a header and one record per profile.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"profile", "sent", "delivered", "net_lost", "dropped", "lack_of_active_sa", "lack_first_negotiation", "rekeys", "collided",
		"failed", "loss_per_rekey", "max_loss_per_activation", "added_p50_us", "added_p99_us", "added_max_us", "reached_s"}
	for _, x := range reasons {
		head = append(head, "drop_"+x)
	}
	head = append(head, "drop_other")
	_ = cw.Write(head)
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	us := func(d effect.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 3, 64)
	}
	for _, x := range r.Rows() {
		rec := []string{x.Profile, u(x.Sent), u(x.Delivered), u(x.NetLost), u(x.Dropped), u(x.LackOfActiveSA),
			u(x.FirstNegotiation), u(x.Rekeys), u(x.Collided), u(x.Failed), strconv.FormatFloat(x.LossPerRekey, 'f', 4, 64),
			u(x.MaxPerActivation), us(x.AddedP50), us(x.AddedP99), us(x.AddedMax),
			strconv.FormatFloat(time.Duration(x.Reached).Seconds(), 'f', 3, 64)}
		for _, rs := range reasons {
			rec = append(rec, u(x.Drops[rs]))
		}
		rec = append(rec, u(other(x.Drops)))
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes one JSON document: the scenario and the rows.
func (r *Report) WriteJSON(w io.Writer) error {
	doc := struct {
		Scenario    effect.Scenario `json:"scenario"`
		Peer        *PeerInfo       `json:"peer,omitempty"`
		Interrupted bool            `json:"interrupted,omitzero"`
		Profiles    []Row           `json:"profiles"`
	}{r.Scenario, r.Peer, r.Interrupted, r.Rows()}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(doc)
}
