package mainmode

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hitless-ike/hitless/ref/isakmp"
)

// fuzzRun is a genuine exchange whose responder snapshots serve every
// fuzz exec. The snapshot waiting for MM3 knows g^xy (gxyFixed), so a
// KE that passes the group's checks costs no modular exponentiation; the
// genuine MM3 still completes the exchange because g^xy is the true one.
func fuzzRun(tb testing.TB) *run {
	ci, cr := configs(31, true)
	ci.ForceNATT = true
	ru := runExchange(tb, ci, cr)
	ru.snapR[1].gxyFixed = ru.r.gxy
	return ru
}

// fuzzMM5 wraps body as the ciphertext of an MM5 under the keys and IV of
// the responder waiting for MM5, so that fuzzing reaches the decrypted
// payload chain and the HASH_I check.
func fuzzMM5(ru *run, first isakmp.PayloadType, body []byte) []byte {
	x := ru.snapR[2]
	if len(body) == 0 {
		body = []byte{0}
	}
	ct, _, err := x.cipher.Encrypt(nil, x.iv, body)
	if err != nil {
		return nil
	}
	h := x.header(isakmp.FlagEncryption)
	h.NextPayload = first
	b, _ := (&isakmp.Message{Header: h, Ciphertext: ct}).Marshal()
	return b
}

// FuzzResponder feeds arbitrary messages to a responder in each state:
// in[0]%5 selects waiting for MM1, MM3, MM5, done, or (4) waiting for MM5
// with in[2:] encrypted under the right keys as MM5's body (payload type
// in[1] first). It asserts no panic, that every error is an *Error, that an
// error changes nothing (state digest) and that the genuine message still
// completes the step afterwards.
func FuzzResponder(f *testing.F) {
	ru := fuzzRun(f)
	for k := range 4 {
		for _, m := range ru.msgs {
			f.Add(append([]byte{byte(k)}, m...))
		}
	}
	// The genuine MM5 body, and bodies with a notify and a vendor ID.
	x := ru.snapR[2]
	pt, _, _ := x.cipher.Decrypt(nil, x.iv, ru.msgs[4][isakmp.HeaderLen:])
	f.Add(append([]byte{4, byte(isakmp.PayloadID)}, pt...))
	f.Add([]byte{4, byte(isakmp.PayloadHASH), 0, 0, 0, 8, 1, 2, 3, 4})
	f.Add([]byte{2, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 1 {
			return
		}
		k := int(in[0] % 5)
		msg := in[1:]
		if k == 4 {
			if len(in) < 2 {
				return
			}
			k, msg = 2, fuzzMM5(ru, isakmp.PayloadType(in[1]), in[2:])
		}
		x := ru.snapR[k]
		before := x.digest()
		out, err := x.Receive(msg)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("untyped error %T %v", err, err)
		}
		if out != nil || x.digest() != before {
			t.Fatalf("error %v changed state or replied", err)
		}
		genuine, want := ru.msgs[min(2*k, 4)], ru.msgs[min(2*k+1, 5)]
		if out, err = x.Receive(genuine); err != nil || !bytes.Equal(out, want) {
			t.Fatalf("after %v the genuine message fails: %v", e, err)
		}
	})
}
