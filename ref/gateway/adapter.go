package gateway

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/hitless-ike/hitless/ref/dh"
	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
	"github.com/hitless-ike/hitless/ref/peer/adapter"
	"github.com/hitless-ike/hitless/ref/quickmode"
)

// This file maps the gateway's configuration to the out-of-process
// adapter's init (package adapter) and back, so that a gateway behind
// `hitless peer serve` is built exactly as NewPair builds it in process.

// SeedPhase1 derives the phase-1 SA of NewPair from seed, as A (the
// phase-1 initiator, 192.0.2.1) and as B (198.51.100.2) see it.
func SeedPhase1(seed uint64, natt bool) (a, b quickmode.Phase1, err error) {
	r := rand.NewChaCha8(seedBytes(seed, 0))
	rb := func(n int) []byte {
		p := make([]byte, n)
		_, _ = r.Read(p)
		return p
	}
	var ci, cr isakmp.Cookie
	copy(ci[:], rb(8))
	copy(cr[:], rb(8))
	p1, err := quickmode.NewPhase1PSK(quickmode.PSKParams{
		PRF: ikecrypto.PRFSHA256, Encr: ikecrypto.EncrAESCBC, KeyLen: 16,
		PSK: rb(16), Ni: rb(32), Nr: rb(32), GXY: rb(256), CookieI: ci, CookieR: cr, LastBlock: rb(16),
		Local: netip.MustParseAddr("192.0.2.1"), Peer: netip.MustParseAddr("198.51.100.2"),
		NATT: natt,
	})
	if err != nil {
		return a, b, fmt.Errorf("%w: phase 1: %w", ErrConfig, err)
	}
	return p1, p1.Reverse(), nil
}

// SeedRand is the random stream NewPair gives end A (side 'A') or B
// (side 'B') of the pair of seed.
func SeedRand(seed uint64, side byte) io.Reader {
	who := byte(1)
	if side == 'B' {
		who = 2
	}
	return rand.NewChaCha8(seedBytes(seed, who))
}

// ServeOptions are the settings of a gateway behind the adapter that are
// the reference's own and so not in the protocol's init: the profile and
// the strongSwan-like retirement options.
type ServeOptions struct {
	Profile             quickmode.Profile
	DeleteRekeyed       bool
	DeleteOldAfterRekey bool
}

// Limits are the bounds a gateway of cfg keeps, as the adapter reports
// them (New's defaults where cfg leaves them zero).
func Limits(cfg *Config) adapter.Limits {
	or := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return adapter.Limits{MaxSAsPerFlow: or(cfg.MaxSAsPerFlow, 8), MaxHalfOpen: or(cfg.MaxHalfOpen, 16),
		MaxQueued: or(cfg.MaxQueue, 16) * len(cfg.Flows)}
}

// AdapterConfig is the adapter init of the gateway cfg would build, for
// end side ('A' or 'B') of the pair of seed: what another implementation
// needs to take that end's place. cfg must hold at most one proposal of
// one transform (nil Proposals: DefaultTransform).
func AdapterConfig(cfg *Config, side byte, seed uint64) (adapter.Config, error) {
	t := DefaultTransform
	switch {
	case len(cfg.Proposals) == 1 && len(cfg.Proposals[0].Transforms) == 1:
		t = cfg.Proposals[0].Transforms[0]
	case cfg.Proposals != nil:
		return adapter.Config{}, fmt.Errorf("%w: the adapter carries one proposal of one transform", ErrConfig)
	}
	esp, keyBits, auth, err := transformNames(t.ESP)
	if err != nil {
		return adapter.Config{}, err
	}
	p1 := &cfg.Phase1
	c := adapter.Config{
		Side: string(side), Initiator: cfg.Initiator, Seed: seed, Start: cfg.Start,
		Phase1: adapter.Phase1{
			CookieI: p1.CookieI[:], CookieR: p1.CookieR[:], PRF: prfNames[p1.PRF],
			SKEYIDd: p1.SKEYIDd, SKEYIDa: p1.SKEYIDa, SKEYIDe: p1.SKEYIDe,
			Encr: encrNames[p1.Encr], Key: p1.Key, IV: p1.LastBlock,
			Local: p1.Local.String(), Peer: p1.Peer.String(), NATT: p1.NATT,
		},
		Proposal: adapter.Proposal{ESP: esp, KeyBits: keyBits, Auth: auth, Mode: t.Mode.String(), PFS: int(cfg.PFS)},
		Lifetime: adapter.Lifetime{Soft: cfg.Lifetime.Soft, Hard: cfg.Lifetime.Hard,
			SoftKilobytes: cfg.Lifetime.SoftKilobytes, HardKilobytes: cfg.Lifetime.HardKilobytes, RekeyFuzz: cfg.RekeyFuzz},
		Retransmit: adapter.Retransmit{Initial: cfg.Retransmit.Initial, Factor: cfg.Retransmit.Factor,
			MaxTries: cfg.Retransmit.MaxTries, Responder: cfg.ResponderRetransmit},
		Linger: cfg.Linger,
	}
	if c.Phase1.PRF == "" || c.Phase1.Encr == "" {
		return adapter.Config{}, fmt.Errorf("%w: phase-1 prf %v or cipher %v has no adapter name", ErrConfig, p1.PRF, p1.Encr)
	}
	for _, f := range cfg.Flows {
		c.Flows = append(c.Flows, adapter.Flow{Local: f.Local.Prefix.String(), Remote: f.Remote.Prefix.String(),
			Protocol: f.Local.Protocol, Port: f.Local.Port})
	}
	return c, nil
}

// FromAdapter builds the configuration of a gateway from an adapter init
// and the reference's own options. It is the inverse of AdapterConfig:
// New(FromAdapter(AdapterConfig(cfg, side, seed))) behaves exactly as the
// end side of NewPair(seed, ...) does.
func FromAdapter(c adapter.Config, o ServeOptions) (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if c.Side != "A" && c.Side != "B" {
		return bad("side %q is neither A nor B", c.Side)
	}
	var p1 quickmode.Phase1
	if len(c.Phase1.CookieI) != 8 || len(c.Phase1.CookieR) != 8 {
		return bad("cookies must be 8 bytes")
	}
	copy(p1.CookieI[:], c.Phase1.CookieI)
	copy(p1.CookieR[:], c.Phase1.CookieR)
	var ok bool
	if p1.PRF, ok = lookup(prfNames, c.Phase1.PRF); !ok {
		return bad("unknown prf %q", c.Phase1.PRF)
	}
	if p1.Encr, ok = lookup(encrNames, c.Phase1.Encr); !ok {
		return bad("unknown phase-1 cipher %q", c.Phase1.Encr)
	}
	p1.SKEYIDd, p1.SKEYIDa, p1.SKEYIDe = c.Phase1.SKEYIDd, c.Phase1.SKEYIDa, c.Phase1.SKEYIDe
	p1.Key, p1.LastBlock, p1.NATT = c.Phase1.Key, c.Phase1.IV, c.Phase1.NATT
	var err error
	if p1.Local, err = netip.ParseAddr(c.Phase1.Local); err != nil {
		return bad("phase-1 local address: %v", err)
	}
	if p1.Peer, err = netip.ParseAddr(c.Phase1.Peer); err != nil {
		return bad("phase-1 peer address: %v", err)
	}
	t, err := transformOf(c.Proposal)
	if err != nil {
		return Config{}, err
	}
	if c.Seed >= 1<<53 {
		return bad("seed %d is not below 2^53", c.Seed)
	}
	cfg := Config{
		Profile: o.Profile, Phase1: p1, Initiator: c.Initiator,
		Proposals: []quickmode.Proposal{{Transforms: []quickmode.Transform{t}}},
		PFS:       dh.ID(c.Proposal.PFS),
		Lifetime: Lifetimes{Soft: c.Lifetime.Soft, Hard: c.Lifetime.Hard,
			SoftKilobytes: c.Lifetime.SoftKilobytes, HardKilobytes: c.Lifetime.HardKilobytes},
		RekeyFuzz: c.Lifetime.RekeyFuzz,
		Retransmit: quickmode.Backoff{Initial: c.Retransmit.Initial, Factor: c.Retransmit.Factor,
			MaxTries: c.Retransmit.MaxTries},
		ResponderRetransmit: c.Retransmit.Responder,
		Linger:              c.Linger,
		Start:               c.Start,
		Rand:                SeedRand(c.Seed, c.Side[0]),
		DeleteRekeyed:       o.DeleteRekeyed,
		DeleteOldAfterRekey: o.DeleteOldAfterRekey,
	}
	for i, f := range c.Flows {
		l, err1 := netip.ParsePrefix(f.Local)
		r, err2 := netip.ParsePrefix(f.Remote)
		if err1 != nil || err2 != nil {
			return bad("flow %d: selectors %q, %q are not prefixes", i, f.Local, f.Remote)
		}
		cfg.Flows = append(cfg.Flows, Flow{
			Local:  quickmode.Selector{Prefix: l, Protocol: f.Protocol, Port: f.Port},
			Remote: quickmode.Selector{Prefix: r, Protocol: f.Protocol, Port: f.Port},
		})
	}
	return cfg, nil
}

var prfNames = map[ikecrypto.PRF]string{
	ikecrypto.PRFMD5: "md5", ikecrypto.PRFSHA1: "sha1", ikecrypto.PRFSHA256: "sha2-256",
	ikecrypto.PRFSHA384: "sha2-384", ikecrypto.PRFSHA512: "sha2-512",
}

var encrNames = map[ikecrypto.Encr]string{ikecrypto.EncrAESCBC: "aes-cbc", ikecrypto.Encr3DESCBC: "3des-cbc"}

var espNames = map[ikecrypto.ESPID]string{ikecrypto.ESPAESCBC: "aes-cbc", ikecrypto.ESPAESGCM16: "aes-gcm-16", ikecrypto.ESPNULL: "null"}

var authNames = map[ikecrypto.ESPAuth]string{
	ikecrypto.AuthNone: "none", ikecrypto.AuthHMACSHA1: "hmac-sha1-96", ikecrypto.AuthHMACSHA256: "hmac-sha2-256-128",
}

func lookup[K comparable](m map[K]string, name string) (K, bool) {
	for k, v := range m {
		if v == name {
			return k, true
		}
	}
	var zero K
	return zero, false
}

func transformNames(t ikecrypto.ESPTransform) (esp string, keyBits int, auth string, err error) {
	esp, ok1 := espNames[t.ID]
	auth, ok2 := authNames[t.Auth]
	if !ok1 || !ok2 {
		return "", 0, "", fmt.Errorf("%w: ESP transform %d/%d has no adapter name", ErrConfig, t.ID, t.Auth)
	}
	return esp, t.KeyBits, auth, nil
}

func transformOf(p adapter.Proposal) (quickmode.Transform, error) {
	id, ok1 := lookup(espNames, p.ESP)
	auth, ok2 := lookup(authNames, p.Auth)
	if !ok1 || !ok2 {
		return quickmode.Transform{}, fmt.Errorf("%w: ESP %q with %q is not supported", ErrConfig, p.ESP, p.Auth)
	}
	t := quickmode.Transform{ESP: ikecrypto.ESPTransform{ID: id, KeyBits: p.KeyBits, Auth: auth}}
	switch p.Mode {
	case "tunnel":
		t.Mode = quickmode.ModeTunnel
	case "transport":
		t.Mode = quickmode.ModeTransport
	default:
		return t, fmt.Errorf("%w: mode %q", ErrConfig, p.Mode)
	}
	if _, err := espTransform(t.ESP); err != nil {
		return t, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return t, nil
}

// Serve is the adapter Factory of the reference gateway with o: the shim
// `hitless peer serve` runs.
func Serve(o ServeOptions) adapter.Factory {
	return func(c adapter.Config) (adapter.Session, error) {
		cfg, err := FromAdapter(c, o)
		if err != nil {
			return adapter.Session{}, err
		}
		g, err := New(cfg)
		if err != nil {
			return adapter.Session{}, err
		}
		return adapter.Session{Peer: g, Implementation: "hitless reference gateway (" + o.Profile.Name + ")", Limits: Limits(&cfg)}, nil
	}
}

// ServeEnv names the environment variable with which a test binary
// becomes a shim: see ServeFromEnv.
const ServeEnv = "HITLESS_SERVE_PROFILE"

// ServeFromEnv lets a test binary be the shim of its own tests: when
// ServeEnv names a profile, it serves the reference gateway in that
// profile over stdin and stdout, as `hitless peer serve` does, and exits
// (status 2 for an unknown profile, 1 if serving failed); otherwise it
// returns. Call it first in TestMain, and start the binary
// (os.Executable) with ServeEnv=NAME as the shim.
func ServeFromEnv() {
	name := os.Getenv(ServeEnv)
	if name == "" {
		return
	}
	p, err := quickmode.ParseProfile(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := adapter.Serve(os.Stdin, os.Stdout, Serve(ServeOptions{Profile: p})); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}
