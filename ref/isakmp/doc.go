// Package isakmp encodes and decodes the ISAKMP wire format used by IKEv1
// (RFC 2408 §3, the IPsec DOI of RFC 2407 §4.5–4.6, the attributes of
// RFC 2409 Appendix A, and NAT-T per RFC 3947/3948). It holds no keys and
// no state: encrypted bodies are handed out as ciphertext, and the caller
// parses the decrypted plaintext with [ParsePayloads].
//
// There are two ways in:
//
//   - [Parse] and [Message.Marshal] convert between bytes and one small
//     struct per payload. Marshal derives every length and next-payload
//     field from the structs. For every input that Parse accepts,
//     Marshal(Parse(b)) == b.
//   - [View] walks the payload chain without allocating, with readers down
//     to SA attributes, for hot paths. It applies exactly the checks Parse
//     applies and fails with the same error.
//
// Parsing is strict by default: the header length must equal the datagram
// length, every length must fit its container exactly, counts must match,
// SPI sizes must suit their protocol, and reserved fields must be zero.
// [ParseOptions.Lenient] accepts the deviations real peers produce and
// records each as a [Note]. Errors are [*Error] values wrapping one of the
// Err* kinds; [NotifyFor] gives the notify type to answer with. Bad input
// never panics and costs at most a small multiple of its size in memory.
package isakmp
