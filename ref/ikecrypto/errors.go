package ikecrypto

import "errors"

// Sentinel errors. Functions wrap them with detail, so compare with errors.Is.
var (
	// ErrUnsupportedPRF reports a hash algorithm this package does not know.
	ErrUnsupportedPRF = errors.New("ikecrypto: unsupported prf/hash algorithm")
	// ErrUnsupportedCipher reports an encryption algorithm this package does not know.
	ErrUnsupportedCipher = errors.New("ikecrypto: unsupported encryption algorithm")
	// ErrKeyLength reports a key of the wrong (or empty) length.
	ErrKeyLength = errors.New("ikecrypto: invalid key length")
	// ErrIVLength reports an IV whose length is not the cipher block size.
	ErrIVLength = errors.New("ikecrypto: invalid IV length")
	// ErrEmpty reports an empty input where data is required (a ciphertext,
	// a pre-shared key, a DH shared secret or public value).
	ErrEmpty = errors.New("ikecrypto: empty input")
	// ErrNotBlockMultiple reports a ciphertext that is not a whole number of
	// cipher blocks.
	ErrNotBlockMultiple = errors.New("ikecrypto: ciphertext is not a multiple of the block size")
	// ErrCookieLength reports an ISAKMP cookie that is not 8 bytes long.
	ErrCookieLength = errors.New("ikecrypto: cookie must be 8 bytes")
	// ErrNonceLength reports a nonce outside 8..256 bytes (RFC 2409 §5).
	ErrNonceLength = errors.New("ikecrypto: nonce must be 8 to 256 bytes")
	// ErrMessageID reports the phase-1 message ID 0 used for a phase-2 exchange.
	ErrMessageID = errors.New("ikecrypto: phase-2 message ID must not be zero")
	// ErrSPILength reports an SPI of the wrong length for its protocol.
	ErrSPILength = errors.New("ikecrypto: invalid SPI length")
	// ErrProtocol reports a protocol ID KEYMAT is not defined for here.
	ErrProtocol = errors.New("ikecrypto: unsupported IPsec protocol ID")
	// ErrKeymatLength reports a requested KEYMAT length out of range, or a
	// KEYMAT too short for the transform it is split for.
	ErrKeymatLength = errors.New("ikecrypto: invalid KEYMAT length")
	// ErrUnsupportedTransform reports an ESP transform or integrity
	// algorithm combination that Split does not know.
	ErrUnsupportedTransform = errors.New("ikecrypto: unsupported ESP transform")
	// ErrHashMismatch reports a received HASH payload value that does not
	// match the computed one (maps to INVALID-HASH-INFORMATION).
	ErrHashMismatch = errors.New("ikecrypto: hash mismatch")
)
