package generate

import (
	"crypto/md5"
	"fmt"
	"strings"
)

// dictEntry is one libFuzzer/AFL dictionary token and why it is there.
type dictEntry struct {
	name    string
	value   []byte
	comment string
}

// staticDict lists tokens from RFC 2408, 2407, 2409, 3947 and 3948.
var staticDict = []dictEntry{
	{"version_1_0", []byte{0x10}, "ISAKMP version byte: major 1, minor 0 (RFC 2408 §3.1)"},
	{"hdr_mm", []byte{0x10, 0x02}, "version 1.0 + exchange Identity Protection (Main Mode)"},
	{"hdr_aggressive", []byte{0x10, 0x04}, "version 1.0 + exchange Aggressive"},
	{"hdr_info", []byte{0x10, 0x05}, "version 1.0 + exchange Informational"},
	{"hdr_transaction", []byte{0x10, 0x06}, "version 1.0 + exchange Transaction (Mode Config)"},
	{"hdr_qm", []byte{0x10, 0x20}, "version 1.0 + exchange Quick Mode (RFC 2409 §5.5)"},
	{"hdr_flags_e", []byte{0x01}, "header flags: Encryption"},
	{"hdr_flags_c", []byte{0x02}, "header flags: Commit"},
	{"hdr_flags_a", []byte{0x04}, "header flags: Authentication Only"},
	{"msg_len_28", []byte{0, 0, 0, 28}, "header length of a message without payloads"},
	{"pt_sa", []byte{0x01}, "next payload: SA"},
	{"pt_proposal", []byte{0x02}, "next payload: Proposal (only inside SA)"},
	{"pt_transform", []byte{0x03}, "next payload: Transform (only inside Proposal)"},
	{"pt_ke", []byte{0x04}, "next payload: Key Exchange"},
	{"pt_id", []byte{0x05}, "next payload: Identification"},
	{"pt_cert", []byte{0x06}, "next payload: Certificate"},
	{"pt_cr", []byte{0x07}, "next payload: Certificate Request"},
	{"pt_hash", []byte{0x08}, "next payload: Hash"},
	{"pt_sig", []byte{0x09}, "next payload: Signature"},
	{"pt_nonce", []byte{0x0a}, "next payload: Nonce"},
	{"pt_n", []byte{0x0b}, "next payload: Notification"},
	{"pt_d", []byte{0x0c}, "next payload: Delete"},
	{"pt_vid", []byte{0x0d}, "next payload: Vendor ID"},
	{"pt_attr", []byte{0x0e}, "next payload: Attribute (Mode Config)"},
	{"pt_natd", []byte{0x14}, "next payload: NAT-D (RFC 3947)"},
	{"pt_natoa", []byte{0x15}, "next payload: NAT-OA (RFC 3947)"},
	{"pt_natd_draft", []byte{0x82}, "next payload: NAT-D, pre-RFC draft number 130"},
	{"pt_natoa_draft", []byte{0x83}, "next payload: NAT-OA, pre-RFC draft number 131"},
	{"gen_hdr_min", []byte{0x00, 0x00, 0x00, 0x04}, "generic payload header: last payload, empty body"},
	{"sa_doi_sit", []byte{0, 0, 0, 1, 0, 0, 0, 1}, "SA body start: DOI IPsec, SIT_IDENTITY_ONLY (RFC 2407 §4.6.1)"},
	{"prop_isakmp", []byte{0x01, 0x00, 0x01}, "proposal: PROTO_ISAKMP, SPI size 0, 1 transform"},
	{"prop_ah", []byte{0x02, 0x04}, "proposal: PROTO_IPSEC_AH, SPI size 4"},
	{"prop_esp", []byte{0x03, 0x04}, "proposal: PROTO_IPSEC_ESP, SPI size 4"},
	{"prop_ipcomp", []byte{0x04, 0x02}, "proposal: PROTO_IPCOMP, SPI size 2"},
	{"proto_isakmp_16", []byte{0x01, 0x10}, "protocol PROTO_ISAKMP with a 16-byte SPI (both cookies)"},
	{"tr_key_ike", []byte{0x01, 0x01, 0x00, 0x00}, "transform 1, KEY_IKE, reserved"},
	{"tr_esp_aes", []byte{0x01, 0x0c, 0x00, 0x00}, "transform 1, ESP_AES, reserved"},
	{"attr_p1_enc_aes", []byte{0x80, 0x01, 0x00, 0x07}, "TV phase-1 Encryption Algorithm = AES-CBC"},
	{"attr_p1_hash_sha", []byte{0x80, 0x02, 0x00, 0x02}, "TV phase-1 Hash Algorithm = SHA"},
	{"attr_p1_auth_psk", []byte{0x80, 0x03, 0x00, 0x01}, "TV phase-1 Authentication Method = pre-shared key"},
	{"attr_p1_group_14", []byte{0x80, 0x04, 0x00, 0x0e}, "TV phase-1 Group Description = MODP 2048"},
	{"attr_p1_life_type", []byte{0x80, 0x0b, 0x00, 0x01}, "TV phase-1 Life Type = seconds"},
	{"attr_p1_life_tlv", []byte{0x00, 0x0c, 0x00, 0x04}, "TLV phase-1 Life Duration header, 4-byte value"},
	{"attr_p1_keylen", []byte{0x80, 0x0e, 0x00, 0x80}, "TV phase-1 Key Length = 128"},
	{"attr_p2_life_type", []byte{0x80, 0x01, 0x00, 0x01}, "TV IPsec SA Life Type = seconds"},
	{"attr_p2_life_tlv", []byte{0x00, 0x02, 0x00, 0x04}, "TLV IPsec SA Life Duration header, 4-byte value"},
	{"attr_p2_pfs_14", []byte{0x80, 0x03, 0x00, 0x0e}, "TV IPsec Group Description (PFS) = MODP 2048"},
	{"attr_p2_encap_tunnel", []byte{0x80, 0x04, 0x00, 0x01}, "TV IPsec Encapsulation Mode = Tunnel"},
	{"attr_p2_encap_udp", []byte{0x80, 0x04, 0x00, 0x03}, "TV IPsec Encapsulation Mode = UDP-Encapsulated-Tunnel (RFC 3947)"},
	{"attr_p2_encap_udp_draft", []byte{0x80, 0x04, 0xf0, 0x03}, "TV IPsec Encapsulation Mode = UDP tunnel, draft value 61443"},
	{"attr_p2_auth_sha", []byte{0x80, 0x05, 0x00, 0x02}, "TV IPsec Authentication Algorithm = HMAC-SHA"},
	{"attr_p2_keylen", []byte{0x80, 0x06, 0x00, 0x80}, "TV IPsec Key Length = 128"},
	{"af_bit", []byte{0x80}, "attribute format bit: TV when set, TLV when clear"},
	{"id_ipv4", []byte{0x01, 0x00, 0x00, 0x00}, "ID_IPV4_ADDR, any protocol and port"},
	{"id_ipv4_udp500", []byte{0x01, 0x11, 0x01, 0xf4}, "ID_IPV4_ADDR, UDP port 500"},
	{"id_ipv4_subnet", []byte{0x04, 0x00, 0x00, 0x00}, "ID_IPV4_ADDR_SUBNET"},
	{"id_ipv6", []byte{0x05, 0x00, 0x00, 0x00}, "ID_IPV6_ADDR"},
	{"id_ipv6_subnet", []byte{0x06, 0x00, 0x00, 0x00}, "ID_IPV6_ADDR_SUBNET"},
	{"id_ipv4_range", []byte{0x07, 0x00, 0x00, 0x00}, "ID_IPV4_ADDR_RANGE"},
	{"id_fqdn", []byte{0x02, 0x00, 0x00, 0x00}, "ID_FQDN"},
	{"n_no_proposal", []byte{0x00, 0x0e}, "notify NO-PROPOSAL-CHOSEN"},
	{"n_payload_malformed", []byte{0x00, 0x10}, "notify PAYLOAD-MALFORMED"},
	{"n_invalid_spi", []byte{0x00, 0x0b}, "notify INVALID-SPI"},
	{"n_unequal_lengths", []byte{0x00, 0x1e}, "notify UNEQUAL-PAYLOAD-LENGTHS"},
	{"n_connected", []byte{0x40, 0x00}, "notify CONNECTED (RFC 2408 commit bit)"},
	{"n_responder_lifetime", []byte{0x60, 0x00}, "notify RESPONDER-LIFETIME (RFC 2407)"},
	{"n_replay_status", []byte{0x60, 0x01}, "notify REPLAY-STATUS (RFC 2407)"},
	{"n_initial_contact", []byte{0x60, 0x02}, "notify INITIAL-CONTACT (RFC 2407)"},
	{"n_dpd_r_u_there", []byte{0x8d, 0x28}, "notify R-U-THERE (RFC 3706)"},
	{"n_dpd_ack", []byte{0x8d, 0x29}, "notify R-U-THERE-ACK (RFC 3706)"},
	{"n_head_ipsec_esp", []byte{0, 0, 0, 1, 0x03, 0x04}, "notification/delete body start: DOI IPsec, ESP, SPI size 4"},
	{"d_head_isakmp", []byte{0, 0, 0, 1, 0x01, 0x10, 0x00, 0x01}, "delete body: DOI IPsec, ISAKMP, SPI size 16, one SPI"},
	{"natoa_ipv4", []byte{0x01, 0x00, 0x00, 0x00}, "NAT-OA body: ID_IPV4_ADDR and reserved"},
	{"non_esp_marker", []byte{0, 0, 0, 0}, "non-ESP marker before ISAKMP on UDP 4500 (RFC 3948 §2.2)"},
	{"nat_keepalive", []byte{0xff}, "NAT-keepalive payload (RFC 3948 §2.3)"},
	{"port_4500", []byte{0x11, 0x94}, "UDP port 4500"},
	{"port_500", []byte{0x01, 0xf4}, "UDP port 500"},
}

// knownVIDs names vendor IDs that are the MD5 of a known string (or a
// prefix of it); the names are checked by hashing, never assumed.
var knownVIDs = []string{
	"RFC 3947",
	"draft-ietf-ipsec-nat-t-ike-02\n",
	"draft-ietf-ipsec-nat-t-ike-03",
	"draft-ietf-ipsra-isakmp-xauth-06.txt",
	"strongSwan",
	"FRAGMENTATION",
}

// fixedVIDs are vendor IDs defined as literal values rather than hashes.
var fixedVIDs = map[string]string{
	"\xaf\xca\xd7\x13\x68\xa1\xf1\xc9\x6b\x86\x96\xfc\x77\x57": "RFC 3706 Dead Peer Detection",
}

func vidName(v []byte) string {
	for p, name := range fixedVIDs {
		if len(v) >= len(p) && string(v[:len(p)]) == p {
			return fmt.Sprintf("%s (version bytes %x)", name, v[len(p):])
		}
	}
	for _, s := range knownVIDs {
		h := md5.Sum([]byte(s))
		if len(v) == len(h) && string(h[:]) == string(v) {
			return fmt.Sprintf("MD5(%q)", s)
		}
		if len(v) >= 8 && len(v) < len(h) && string(h[:len(v)]) == string(v) {
			return fmt.Sprintf("first %d bytes of MD5(%q)", len(v), s)
		}
		// Some vendor IDs append capability flags to the hash.
		if len(v) > len(h) && string(h[:]) == string(v[:len(h)]) {
			return fmt.Sprintf("MD5(%q) + %x", s, v[len(h):])
		}
	}
	return "not identified here"
}

// dictionary writes isakmp.dict: the static tokens, then every vendor ID
// the captures carry.
func (g *gen) dictionary() {
	var b strings.Builder
	b.WriteString("# ISAKMP (IKEv1) dictionary for libFuzzer (-dict=) and AFL (-x).\n")
	b.WriteString("# Written by " + Tool + "; edit corpus/internal/generate/dict.go instead.\n")
	b.WriteString("# Multi-byte values are big-endian as on the wire.\n\n")
	for _, e := range staticDict {
		fmt.Fprintf(&b, "# %s\n%s=\"%s\"\n", e.comment, e.name, escape(e.value))
	}
	for i, v := range g.vids {
		fmt.Fprintf(&b, "# vendor ID from the strongSwan captures: %s\nvid_%d=\"%s\"\n", vidName(v), i, escape(v))
	}
	g.out[dictFile] = []byte(b.String())
}

// escape writes every byte as \xNN, which both libFuzzer and AFL accept.
func escape(v []byte) string {
	var b strings.Builder
	for _, c := range v {
		fmt.Fprintf(&b, `\x%02x`, c)
	}
	return b.String()
}
