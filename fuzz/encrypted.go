package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hitless-ike/hitless/ref/ikecrypto"
	"github.com/hitless-ike/hitless/ref/isakmp"
)

// An input of FuzzDecryptParse is framed as
//
//	byte 0      cipher selector, modulo 3: AES-128-CBC, AES-256-CBC, 3DES-CBC
//	byte 1      type of the first payload (the header's next payload)
//	bytes 2..5  message ID, big-endian
//	bytes 6..   the encrypted body (ciphertext)
//
// and decrypted under fixed keys with the phase-2 IV of that message ID
// (RFC 2409 Appendix B), derived from a fixed last phase-1 block.
const encryptedHeaderLen = 6

// Ciphers of FuzzDecryptParse, by selector.
const (
	EncryptedAES128 byte = iota
	EncryptedAES256
	Encrypted3DES
	numEncrypted
)

// encryptedKeys are the fixed keys and last phase-1 blocks, by selector.
var encryptedKeys = [numEncrypted]struct {
	alg  ikecrypto.Encr
	key  []byte
	last []byte
}{
	{ikecrypto.EncrAESCBC, bytes.Repeat([]byte{0xa1}, 16), bytes.Repeat([]byte{0x51}, 16)},
	{ikecrypto.EncrAESCBC, bytes.Repeat([]byte{0xa2}, 32), bytes.Repeat([]byte{0x52}, 16)},
	{ikecrypto.Encr3DESCBC, []byte("hitless-fuzz-3des-key-24"), bytes.Repeat([]byte{0x53}, 8)},
}

// ErrShortInput is returned by OpenEncrypted for an input shorter than
// its framing.
var ErrShortInput = errors.New("fuzz: input shorter than its framing")

// encryptedCipher returns the cipher and IV an input's selector and
// message ID choose. Only a zero message ID fails (ikecrypto.ErrMessageID).
func encryptedCipher(sel byte, mid uint32) (*ikecrypto.Cipher, ikecrypto.IV, error) {
	k := encryptedKeys[sel%numEncrypted]
	c, err := ikecrypto.NewCipher(k.alg, k.key)
	if err != nil {
		return nil, ikecrypto.IV{}, errors.Join(ErrHarness, err)
	}
	last, err := ikecrypto.NewIV(k.last)
	if err != nil {
		return nil, ikecrypto.IV{}, errors.Join(ErrHarness, err)
	}
	iv, err := ikecrypto.Phase2IV(ikecrypto.PRFSHA1, last, mid)
	return c, iv, err
}

// SealEncrypted returns the FuzzDecryptParse input that decrypts to
// plain: plain encrypted under the fixed key of cipher sel with the IV of
// message ID mid. A plain that fills whole blocks (a decrypted body, its
// padding included) is encrypted as is; otherwise the cipher's padding is
// added.
func SealEncrypted(sel byte, first isakmp.PayloadType, mid uint32, plain []byte) ([]byte, error) {
	c, iv, err := encryptedCipher(sel, mid)
	if err != nil {
		return nil, err
	}
	ct, _, err := c.Encrypt(nil, iv, plain)
	if err != nil {
		return nil, err
	}
	if len(plain)%c.BlockSize() == 0 {
		ct = ct[:len(plain)] // CBC: the padding block is last, drop it
	}
	out := []byte{sel, byte(first), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[2:], mid)
	return append(out, ct...), nil
}

// openEncrypted decrypts an input of FuzzDecryptParse and returns the
// first payload type and the plaintext body.
func openEncrypted(b []byte) (isakmp.PayloadType, []byte, error) {
	if len(b) < encryptedHeaderLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrShortInput, len(b), encryptedHeaderLen)
	}
	c, iv, err := encryptedCipher(b[0], binary.BigEndian.Uint32(b[2:]))
	if err != nil {
		return 0, nil, err
	}
	plain, _, err := c.Decrypt(nil, iv, b[encryptedHeaderLen:])
	return isakmp.PayloadType(b[1]), plain, err
}

// OpenEncrypted decrypts an input of FuzzDecryptParse and parses the body
// strictly. Errors are ErrShortInput, ikecrypto's (zero message ID,
// ciphertext empty or not whole blocks) or the parser's *isakmp.Error.
// The corpus manifests are checked with it.
func OpenEncrypted(b []byte) (*isakmp.Body, error) {
	first, plain, err := openEncrypted(b)
	if err != nil {
		return nil, err
	}
	return isakmp.ParsePayloads(first, plain, isakmp.ParseOptions{})
}

// DecryptParse is the property of FuzzDecryptParse for one input b (framed
// as documented on encryptedHeaderLen): decryption fails exactly for a
// zero message ID or a ciphertext that is empty or not whole blocks, with
// ikecrypto's typed errors, and otherwise yields as many bytes, which
// encrypt back to the ciphertext. The body then parses as FuzzParse
// requires of a message (typed, mapped, located errors; lenient accepts
// what strict does, with the same result) and the View walk of the body
// agrees with ParsePayloads, strict and lenient. Inputs shorter than the
// framing are skipped.
func DecryptParse(t T, b []byte) {
	if len(b) < encryptedHeaderLen {
		return
	}
	in := bytes.Clone(b)
	mid := binary.BigEndian.Uint32(b[2:])
	c, iv, err := encryptedCipher(b[0], mid)
	if err != nil {
		if mid != 0 || !errors.Is(err, ikecrypto.ErrMessageID) {
			t.Fatalf("M-ID %#x: %v", mid, err)
		}
		return
	}
	if mid == 0 {
		t.Fatal("phase-2 IV derived for message ID 0")
	}
	ct := b[encryptedHeaderLen:]
	bs := c.BlockSize()
	plain, next, err := c.Decrypt(nil, iv, ct)
	switch {
	case len(ct) == 0:
		if !errors.Is(err, ikecrypto.ErrEmpty) {
			t.Fatalf("empty ciphertext: %v, want ErrEmpty", err)
		}
		return
	case len(ct)%bs != 0:
		if !errors.Is(err, ikecrypto.ErrNotBlockMultiple) {
			t.Fatalf("%d-byte ciphertext, block %d: %v, want ErrNotBlockMultiple", len(ct), bs, err)
		}
		return
	case err != nil:
		t.Fatalf("%d-byte ciphertext: %v", len(ct), err)
	}
	if len(plain) != len(ct) || !bytes.Equal(next.Bytes(), ct[len(ct)-bs:]) {
		t.Fatalf("decrypted %d bytes of %d, next IV %x", len(plain), len(ct), next.Bytes())
	}
	again, _, err := c.Encrypt(nil, iv, plain)
	if err != nil || !bytes.Equal(again[:len(ct)], ct) {
		t.Fatalf("re-encryption differs from the ciphertext (%v)", err)
	}
	first := isakmp.PayloadType(b[1])
	checkBody(t, first, plain)
	if !bytes.Equal(in, b) {
		t.Fatal("decrypting or parsing changed the input")
	}
}

// checkBody checks ParsePayloads and the View on one decrypted body.
func checkBody(t T, first isakmp.PayloadType, plain []byte) {
	t.Helper()
	sb, err := isakmp.ParsePayloads(first, plain, isakmp.ParseOptions{})
	lb, lerr := isakmp.ParsePayloads(first, plain, lenient)
	switch {
	case err != nil:
		checkError(t, "strict body", err, len(plain))
		if lerr != nil {
			checkError(t, "lenient body", lerr, len(plain))
		} else if len(lb.Notes) == 0 {
			t.Fatal("lenient accepts a body strict rejects without a note")
		}
	case sb.Notes != nil:
		t.Fatalf("strict body parse has notes %v", sb.Notes)
	case lerr != nil:
		t.Fatalf("lenient rejects a body strict accepts: %v", lerr)
	case !same(sb, lb):
		t.Fatalf("lenient body differs from strict (-strict +lenient):\n%s", diff(sb, lb))
	}
	for _, o := range []isakmp.ParseOptions{{}, lenient} {
		body, perr := sb, err
		if o.Lenient {
			body, perr = lb, lerr
		}
		w := &walk{}
		bodyWalk(t, first, plain, o, w)
		if (perr == nil) != (w.err == nil) || (perr != nil && !sameError(perr, w.err)) {
			t.Fatalf("lenient=%v: ParsePayloads error %v, View error %v", o.Lenient, perr, w.err)
		}
		if perr == nil {
			m := &isakmp.Message{Payloads: body.Payloads, Padding: body.Padding, Notes: body.Notes}
			compareWalk(t, o, m, w)
		}
	}
}

// bodyWalk walks a decrypted body with View.StartPayloads, as viewWalk
// walks a message.
func bodyWalk(t T, first isakmp.PayloadType, plain []byte, o isakmp.ParseOptions, w *walk) {
	var v isakmp.View
	w.reset()
	v.StartPayloads(first, plain, o)
	for v.Next() {
		w.types = append(w.types, v.Type())
		w.bodies = append(w.bodies, v.Body())
		if len(v.Raw()) != 4+len(v.Body()) || v.Offset() < 0 || v.Offset() >= len(plain) {
			t.Fatalf("payload %d: Raw %d bytes for body %d, offset %d", len(w.types)-1, len(v.Raw()), len(v.Body()), v.Offset())
		}
		w.decoded = append(w.decoded, decodeCurrent(t, &v))
	}
	w.err = v.Err()
	w.padding = nz(v.Padding())
	w.notes = append(w.notes, v.Notes()...)
}
