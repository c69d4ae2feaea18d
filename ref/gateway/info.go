package gateway

import (
	"encoding/binary"
	"io"
	"slices"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// maxInfoSize bounds accepted Informational messages.
const maxInfoSize = 4096

// sendDelete sends an Informational exchange with one Delete payload for
// the ESP SAs whose inbound SPIs (ours, the ones the peer sends to) are
// spis: HDR*, HASH(1), D with HASH(1) = prf(SKEYID_a, M-ID | D) (RFC 2409
// §5.7), encrypted under the phase-2 IV of a fresh M-ID.
func (g *Gateway) sendDelete(spis []uint32) {
	if len(spis) == 0 {
		return
	}
	d := &isakmp.Delete{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoIPsecESP, SPISize: 4}
	for _, s := range spis {
		d.SPIs = binary.BigEndian.AppendUint32(d.SPIs, s)
	}
	g.sendInfo(d)
}

// sendInfo sends one Informational exchange carrying payload p (a Delete
// or a Notification).
func (g *Gateway) sendInfo(p isakmp.Payload) {
	var mb [4]byte
	if _, err := io.ReadFull(g.cfg.Rand, mb[:]); err != nil {
		g.reject(0, "Informational: randomness failed: "+err.Error(), isakmp.NotifyNone)
		return
	}
	mid := binary.BigEndian.Uint32(mb[:]) | 1 // never 0, which is phase 1's
	p1 := &g.cfg.Phase1
	hs := p1.PRF.Size()
	plain, err := isakmp.AppendPayloads(g.plain[:0], []isakmp.Payload{&isakmp.Hash{Data: make([]byte, hs)}, p})
	if err != nil {
		g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyNone)
		return
	}
	g.plain = plain
	h, err := ikecrypto.InfoHash(p1.PRF, p1.SKEYIDa, mid, plain[4+hs:])
	if err == nil {
		copy(plain[4:4+hs], h)
		var iv ikecrypto.IV
		if iv, err = ikecrypto.Phase2IV(p1.PRF, g.last, mid); err == nil {
			var ct []byte
			if ct, _, err = g.cipher.Encrypt(nil, iv, plain); err == nil {
				m := isakmp.Message{Header: isakmp.Header{InitiatorCookie: p1.CookieI, ResponderCookie: p1.CookieR,
					NextPayload: isakmp.PayloadHASH, MajorVersion: 1, Exchange: isakmp.ExchangeInformational,
					Flags: isakmp.FlagEncryption, MessageID: mid}, Ciphertext: ct}
				var msg []byte
				if msg, err = m.Marshal(); err == nil {
					g.transmitIKE(msg)
					return
				}
			}
		}
	}
	g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyNone)
}

// notifyReject sends, if Config.NotifyRejects asks for it and the rate
// limit allows, an Informational Notify of type n about the phase-1 SA
// (protocol ISAKMP, the cookies as SPI, RFC 2408 §3.14). Notify types
// that say nothing to the peer (NotifyNone) are not sent.
func (g *Gateway) notifyReject(n isakmp.NotifyType) {
	if !g.cfg.NotifyRejects || n == isakmp.NotifyNone ||
		(g.notified && g.now-g.notifiedAt < g.cfg.NotifyInterval) {
		return
	}
	g.notified, g.notifiedAt = true, g.now
	p1 := &g.cfg.Phase1
	spi := append(append(make([]byte, 0, 16), p1.CookieI[:]...), p1.CookieR[:]...)
	g.sendInfo(&isakmp.Notification{DOI: isakmp.DOIIPsec, Protocol: isakmp.ProtoISAKMP, Notify: n, SPI: spi})
}

// receiveInfo authenticates an Informational exchange and applies its
// Delete payloads. Anything wrong is rejected before any state changes.
func (g *Gateway) receiveInfo(h *isakmp.Header, ct, b []byte) {
	p1 := &g.cfg.Phase1
	mid := h.MessageID
	switch {
	case len(b) > maxInfoSize:
		g.reject(mid, "Informational too large", isakmp.NotifyPayloadMalformed)
		return
	case h.InitiatorCookie != p1.CookieI || h.ResponderCookie != p1.CookieR:
		g.reject(mid, "Informational: cookies of another ISAKMP SA", isakmp.NotifyInvalidCookie)
		return
	case h.Flags&isakmp.FlagEncryption == 0:
		g.reject(mid, "Informational not encrypted", isakmp.NotifyInvalidFlags)
		return
	case mid == 0:
		g.reject(mid, "Informational with message ID 0", isakmp.NotifyInvalidMessageID)
		return
	case slices.Contains(g.infoIDs, mid):
		g.reject(mid, "Informational replayed", isakmp.NotifyNone)
		return
	}
	iv, err := ikecrypto.Phase2IV(p1.PRF, g.last, mid)
	if err != nil {
		g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyNone)
		return
	}
	plain, _, err := g.cipher.Decrypt(g.plain[:0], iv, ct)
	if err != nil {
		g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyPayloadMalformed)
		return
	}
	g.plain = plain
	var v isakmp.View
	v.StartPayloads(h.NextPayload, plain, isakmp.ParseOptions{})
	if !v.Next() || v.Type() != isakmp.PayloadHASH {
		if err := v.Err(); err != nil {
			g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyFor(err))
			return
		}
		g.reject(mid, "Informational: HASH must come first", isakmp.NotifyPayloadMalformed)
		return
	}
	hash := v.Body()
	restStart := v.Offset() + len(v.Raw())
	restEnd, n := restStart, 0
	for v.Next() {
		switch v.Type() {
		case isakmp.PayloadD:
			d, err := v.Delete()
			if err != nil {
				g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyFor(err))
				return
			}
			if d.Protocol != isakmp.ProtoIPsecESP || d.SPISize != 4 {
				g.reject(mid, "Informational: Delete for a protocol other than ESP", isakmp.NotifyInvalidProtocolID)
				return
			}
		case isakmp.PayloadN:
			if _, err := v.Notification(); err != nil {
				g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyFor(err))
				return
			}
		default:
			g.reject(mid, "Informational: only Delete and Notification may follow HASH", isakmp.NotifyInvalidPayloadType)
			return
		}
		n++
		restEnd = v.Offset() + len(v.Raw())
	}
	if err := v.Err(); err != nil {
		g.reject(mid, "Informational: "+err.Error(), isakmp.NotifyFor(err))
		return
	}
	if n == 0 {
		g.reject(mid, "Informational without Delete or Notification", isakmp.NotifyPayloadMalformed)
		return
	}
	if err := ikecrypto.VerifyInfoHash(p1.PRF, p1.SKEYIDa, mid, plain[restStart:restEnd], hash); err != nil {
		g.reject(mid, "Informational: HASH(1) does not verify", isakmp.NotifyInvalidHashInformation)
		return
	}
	// Authenticated: remember the M-ID against replays, then apply.
	if len(g.infoIDs) == maxInfoIDs {
		g.infoIDs = slices.Delete(g.infoIDs, 0, 1)
	}
	g.infoIDs = append(g.infoIDs, mid)
	var spis []uint32
	v.StartPayloads(h.NextPayload, plain, isakmp.ParseOptions{})
	for v.Next() {
		if v.Type() != isakmp.PayloadD {
			continue // notifications are accepted and need nothing here
		}
		d, _ := v.Delete()
		for i := range d.NumSPIs() {
			spis = append(spis, binary.BigEndian.Uint32(d.SPI(i)))
		}
	}
	// The peer deletes its inbound SA: ours is the outbound with that SPI.
	g.peerDeleted(spis)
}
