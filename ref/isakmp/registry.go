package isakmp

import "strconv"

// name formats v with its registry name, or as Type(v) when unassigned.
func name(names map[uint32]string, typ string, v uint32) string {
	if s, ok := names[v]; ok {
		return s
	}
	return typ + "(" + strconv.FormatUint(uint64(v), 10) + ")"
}

// PayloadType is an ISAKMP Next Payload Type (IANA "ISAKMP Next Payload Types").
type PayloadType uint8

// Payload types. 130 and 131 are the values used by drafts of NAT-T before
// RFC 3947 assigned 20 and 21; peers still send them.
const (
	PayloadNone          PayloadType = 0
	PayloadSA            PayloadType = 1
	PayloadProposal      PayloadType = 2
	PayloadTransform     PayloadType = 3
	PayloadKE            PayloadType = 4
	PayloadID            PayloadType = 5
	PayloadCERT          PayloadType = 6
	PayloadCR            PayloadType = 7
	PayloadHASH          PayloadType = 8
	PayloadSIG           PayloadType = 9
	PayloadNONCE         PayloadType = 10
	PayloadN             PayloadType = 11
	PayloadD             PayloadType = 12
	PayloadVID           PayloadType = 13
	PayloadAttribute     PayloadType = 14 // Mode Config attributes (draft-ietf-ipsec-isakmp-mode-cfg)
	PayloadSAK           PayloadType = 15
	PayloadSAT           PayloadType = 16
	PayloadKD            PayloadType = 17
	PayloadSEQ           PayloadType = 18
	PayloadPOP           PayloadType = 19
	PayloadNATD          PayloadType = 20
	PayloadNATOA         PayloadType = 21
	PayloadGAP           PayloadType = 22
	PayloadNATDDraft     PayloadType = 130
	PayloadNATOADraft    PayloadType = 131
	PayloadPrivateUseMin PayloadType = 128
)

var payloadTypeNames = map[uint32]string{
	0: "NONE", 1: "SA", 2: "P", 3: "T", 4: "KE", 5: "ID", 6: "CERT", 7: "CR",
	8: "HASH", 9: "SIG", 10: "NONCE", 11: "N", 12: "D", 13: "VID", 14: "ATTR",
	15: "SAK", 16: "SAT", 17: "KD", 18: "SEQ", 19: "POP", 20: "NAT-D",
	21: "NAT-OA", 22: "GAP", 130: "NAT-D (draft)", 131: "NAT-OA (draft)",
}

// String returns the IANA short name, e.g. "SA" or "NAT-D".
func (t PayloadType) String() string { return name(payloadTypeNames, "PayloadType", uint32(t)) }

// known reports whether t is registered (or private use): such payloads are
// kept as [Unknown] by strict parsing instead of being rejected.
func (t PayloadType) registered() bool {
	return (t >= PayloadAttribute && t <= PayloadGAP) || t >= PayloadPrivateUseMin
}

// ExchangeType is an ISAKMP exchange type (IANA "ISAKMP Exchange Types" and
// "IKE Exchange Types").
type ExchangeType uint8

// Exchange types.
const (
	ExchangeNone               ExchangeType = 0
	ExchangeBase               ExchangeType = 1
	ExchangeIdentityProtection ExchangeType = 2
	ExchangeMainMode                        = ExchangeIdentityProtection // IKE name of Identity Protection
	ExchangeAuthenticationOnly ExchangeType = 3
	ExchangeAggressive         ExchangeType = 4
	ExchangeInformational      ExchangeType = 5
	ExchangeTransaction        ExchangeType = 6 // Mode Config
	ExchangeQuickMode          ExchangeType = 32
	ExchangeNewGroupMode       ExchangeType = 33
)

var exchangeNames = map[uint32]string{
	0: "NONE", 1: "Base", 2: "Identity Protection", 3: "Authentication Only",
	4: "Aggressive", 5: "Informational", 6: "Transaction", 32: "Quick Mode",
	33: "New Group Mode",
}

// String returns the IANA name, e.g. "Quick Mode".
func (t ExchangeType) String() string { return name(exchangeNames, "ExchangeType", uint32(t)) }

// NotifyType is a Notify Message Type (IANA "Notify Message Types", ISAKMP
// errors 1–30, status 16384, IPsec DOI 24576–24578, DPD 36136–36137).
type NotifyType uint16

// Notify message types.
const (
	NotifyNone                    NotifyType = 0
	NotifyInvalidPayloadType      NotifyType = 1
	NotifyDOINotSupported         NotifyType = 2
	NotifySituationNotSupported   NotifyType = 3
	NotifyInvalidCookie           NotifyType = 4
	NotifyInvalidMajorVersion     NotifyType = 5
	NotifyInvalidMinorVersion     NotifyType = 6
	NotifyInvalidExchangeType     NotifyType = 7
	NotifyInvalidFlags            NotifyType = 8
	NotifyInvalidMessageID        NotifyType = 9
	NotifyInvalidProtocolID       NotifyType = 10
	NotifyInvalidSPI              NotifyType = 11
	NotifyInvalidTransformID      NotifyType = 12
	NotifyAttributesNotSupported  NotifyType = 13
	NotifyNoProposalChosen        NotifyType = 14
	NotifyBadProposalSyntax       NotifyType = 15
	NotifyPayloadMalformed        NotifyType = 16
	NotifyInvalidKeyInformation   NotifyType = 17
	NotifyInvalidIDInformation    NotifyType = 18
	NotifyInvalidCertEncoding     NotifyType = 19
	NotifyInvalidCertificate      NotifyType = 20
	NotifyCertTypeUnsupported     NotifyType = 21
	NotifyInvalidCertAuthority    NotifyType = 22
	NotifyInvalidHashInformation  NotifyType = 23
	NotifyAuthenticationFailed    NotifyType = 24
	NotifyInvalidSignature        NotifyType = 25
	NotifyAddressNotification     NotifyType = 26
	NotifyNotifySALifetime        NotifyType = 27
	NotifyCertificateUnavailable  NotifyType = 28
	NotifyUnsupportedExchangeType NotifyType = 29
	NotifyUnequalPayloadLengths   NotifyType = 30
	NotifyConnected               NotifyType = 16384
	NotifyResponderLifetime       NotifyType = 24576
	NotifyReplayStatus            NotifyType = 24577
	NotifyInitialContact          NotifyType = 24578
	NotifyRUThere                 NotifyType = 36136
	NotifyRUThereAck              NotifyType = 36137
)

var notifyNames = map[uint32]string{
	0: "NONE", 1: "INVALID-PAYLOAD-TYPE", 2: "DOI-NOT-SUPPORTED", 3: "SITUATION-NOT-SUPPORTED",
	4: "INVALID-COOKIE", 5: "INVALID-MAJOR-VERSION", 6: "INVALID-MINOR-VERSION",
	7: "INVALID-EXCHANGE-TYPE", 8: "INVALID-FLAGS", 9: "INVALID-MESSAGE-ID",
	10: "INVALID-PROTOCOL-ID", 11: "INVALID-SPI", 12: "INVALID-TRANSFORM-ID",
	13: "ATTRIBUTES-NOT-SUPPORTED", 14: "NO-PROPOSAL-CHOSEN", 15: "BAD-PROPOSAL-SYNTAX",
	16: "PAYLOAD-MALFORMED", 17: "INVALID-KEY-INFORMATION", 18: "INVALID-ID-INFORMATION",
	19: "INVALID-CERT-ENCODING", 20: "INVALID-CERTIFICATE", 21: "CERT-TYPE-UNSUPPORTED",
	22: "INVALID-CERT-AUTHORITY", 23: "INVALID-HASH-INFORMATION", 24: "AUTHENTICATION-FAILED",
	25: "INVALID-SIGNATURE", 26: "ADDRESS-NOTIFICATION", 27: "NOTIFY-SA-LIFETIME",
	28: "CERTIFICATE-UNAVAILABLE", 29: "UNSUPPORTED-EXCHANGE-TYPE", 30: "UNEQUAL-PAYLOAD-LENGTHS",
	16384: "CONNECTED", 24576: "RESPONDER-LIFETIME", 24577: "REPLAY-STATUS",
	24578: "INITIAL-CONTACT", 36136: "R-U-THERE", 36137: "R-U-THERE-ACK",
}

// String returns the IANA name, e.g. "INVALID-SPI".
func (t NotifyType) String() string { return name(notifyNames, "NotifyType", uint32(t)) }

// IsError reports whether t is in the error range (1–16383).
func (t NotifyType) IsError() bool { return t >= 1 && t < 16384 }

// DOI is a Domain of Interpretation (IANA "ISAKMP Domain of Interpretation").
type DOI uint32

// Domains of interpretation.
const (
	DOIISAKMP DOI = 0
	DOIIPsec  DOI = 1
)

var doiNames = map[uint32]string{0: "ISAKMP", 1: "IPSEC"}

// String returns the IANA name.
func (d DOI) String() string { return name(doiNames, "DOI", uint32(d)) }

// Situation is the IPsec DOI situation bitmap (RFC 2407 §4.2).
type Situation uint32

// Situation bits.
const (
	SitIdentityOnly Situation = 0x01
	SitSecrecy      Situation = 0x02
	SitIntegrity    Situation = 0x04
)

// String lists the set bits, e.g. "SIT_IDENTITY_ONLY".
func (s Situation) String() string {
	out := ""
	for _, b := range [...]struct {
		bit Situation
		n   string
	}{{SitIdentityOnly, "SIT_IDENTITY_ONLY"}, {SitSecrecy, "SIT_SECRECY"}, {SitIntegrity, "SIT_INTEGRITY"}} {
		if s&b.bit != 0 {
			if out != "" {
				out += "|"
			}
			out += b.n
			s &^= b.bit
		}
	}
	if s != 0 || out == "" {
		if out != "" {
			out += "|"
		}
		out += "Situation(0x" + strconv.FormatUint(uint64(s), 16) + ")"
	}
	return out
}

// ProtocolID is a Security Protocol Identifier (IANA "IPSEC Security
// Protocol Identifiers").
type ProtocolID uint8

// Protocol identifiers.
const (
	ProtoISAKMP   ProtocolID = 1
	ProtoIPsecAH  ProtocolID = 2
	ProtoIPsecESP ProtocolID = 3
	ProtoIPComp   ProtocolID = 4
)

var protoNames = map[uint32]string{
	0: "RESERVED", 1: "PROTO_ISAKMP", 2: "PROTO_IPSEC_AH", 3: "PROTO_IPSEC_ESP", 4: "PROTO_IPCOMP",
}

// String returns the IANA name, e.g. "PROTO_IPSEC_ESP".
func (p ProtocolID) String() string { return name(protoNames, "ProtocolID", uint32(p)) }

// ISAKMPTransformID is a transform ID for PROTO_ISAKMP proposals.
type ISAKMPTransformID uint8

// ISAKMP transform IDs.
const KeyIKE ISAKMPTransformID = 1

// String returns the IANA name.
func (t ISAKMPTransformID) String() string {
	return name(map[uint32]string{1: "KEY_IKE"}, "ISAKMPTransformID", uint32(t))
}

// AHTransformID is a transform ID for PROTO_IPSEC_AH proposals (IANA "IPSEC
// AH Transform Identifiers").
type AHTransformID uint8

// AH transform IDs.
const (
	AHMD5        AHTransformID = 2
	AHSHA        AHTransformID = 3
	AHDES        AHTransformID = 4
	AHSHA2_256   AHTransformID = 5
	AHSHA2_384   AHTransformID = 6
	AHSHA2_512   AHTransformID = 7
	AHRIPEMD     AHTransformID = 8
	AHAESXCBCMAC AHTransformID = 9
	AHRSA        AHTransformID = 10
	AHAES128GMAC AHTransformID = 11
	AHAES192GMAC AHTransformID = 12
	AHAES256GMAC AHTransformID = 13
)

var ahNames = map[uint32]string{
	2: "AH_MD5", 3: "AH_SHA", 4: "AH_DES", 5: "AH_SHA2-256", 6: "AH_SHA2-384",
	7: "AH_SHA2-512", 8: "AH_RIPEMD", 9: "AH_AES-XCBC-MAC", 10: "AH_RSA",
	11: "AH_AES-128-GMAC", 12: "AH_AES-192-GMAC", 13: "AH_AES-256-GMAC",
}

// String returns the IANA name, e.g. "AH_SHA".
func (t AHTransformID) String() string { return name(ahNames, "AHTransformID", uint32(t)) }

// ESPTransformID is a transform ID for PROTO_IPSEC_ESP proposals (IANA
// "IPSEC ESP Transform Identifiers").
type ESPTransformID uint8

// ESP transform IDs.
const (
	ESPDESIV64         ESPTransformID = 1
	ESPDES             ESPTransformID = 2
	ESP3DES            ESPTransformID = 3
	ESPRC5             ESPTransformID = 4
	ESPIDEA            ESPTransformID = 5
	ESPCAST            ESPTransformID = 6
	ESPBlowfish        ESPTransformID = 7
	ESP3IDEA           ESPTransformID = 8
	ESPDESIV32         ESPTransformID = 9
	ESPRC4             ESPTransformID = 10
	ESPNull            ESPTransformID = 11
	ESPAES             ESPTransformID = 12 // AES-CBC (RFC 3602)
	ESPAESCTR          ESPTransformID = 13
	ESPAESCCM8         ESPTransformID = 14
	ESPAESCCM12        ESPTransformID = 15
	ESPAESCCM16        ESPTransformID = 16
	ESPAESGCM8         ESPTransformID = 18
	ESPAESGCM12        ESPTransformID = 19
	ESPAESGCM16        ESPTransformID = 20
	ESPSEEDCBC         ESPTransformID = 21
	ESPCamellia        ESPTransformID = 22
	ESPNullAuthAESGMAC ESPTransformID = 23
)

var espNames = map[uint32]string{
	1: "ESP_DES_IV64", 2: "ESP_DES", 3: "ESP_3DES", 4: "ESP_RC5", 5: "ESP_IDEA",
	6: "ESP_CAST", 7: "ESP_BLOWFISH", 8: "ESP_3IDEA", 9: "ESP_DES_IV32",
	10: "ESP_RC4", 11: "ESP_NULL", 12: "ESP_AES-CBC", 13: "ESP_AES-CTR",
	14: "ESP_AES-CCM_8", 15: "ESP_AES-CCM_12", 16: "ESP_AES-CCM_16",
	18: "ESP_AES-GCM_8", 19: "ESP_AES-GCM_12", 20: "ESP_AES-GCM_16",
	21: "ESP_SEED_CBC", 22: "ESP_CAMELLIA", 23: "ESP_NULL_AUTH_AES-GMAC",
}

// String returns the IANA name, e.g. "ESP_AES-CBC".
func (t ESPTransformID) String() string { return name(espNames, "ESPTransformID", uint32(t)) }

// IPCompTransformID is a transform ID for PROTO_IPCOMP proposals.
type IPCompTransformID uint8

// IPComp transform IDs.
const (
	IPCompOUI     IPCompTransformID = 1
	IPCompDeflate IPCompTransformID = 2
	IPCompLZS     IPCompTransformID = 3
	IPCompLZJH    IPCompTransformID = 4
)

// String returns the IANA name, e.g. "IPCOMP_DEFLATE".
func (t IPCompTransformID) String() string {
	return name(map[uint32]string{1: "IPCOMP_OUI", 2: "IPCOMP_DEFLATE", 3: "IPCOMP_LZS", 4: "IPCOMP_LZJH"},
		"IPCompTransformID", uint32(t))
}

// TransformName returns the registry name of transform id under protocol p.
// Transform IDs only have a meaning relative to their proposal's protocol.
func TransformName(p ProtocolID, id uint8) string {
	switch p {
	case ProtoISAKMP:
		return ISAKMPTransformID(id).String()
	case ProtoIPsecAH:
		return AHTransformID(id).String()
	case ProtoIPsecESP:
		return ESPTransformID(id).String()
	case ProtoIPComp:
		return IPCompTransformID(id).String()
	}
	return "TransformID(" + strconv.Itoa(int(id)) + ")"
}

// AttributeClass is a phase-1 (IKE SA) attribute type (IANA "IKE
// Attributes", RFC 2409 Appendix A).
type AttributeClass uint16

// Phase-1 attribute classes.
const (
	ClassEncryptionAlgorithm  AttributeClass = 1
	ClassHashAlgorithm        AttributeClass = 2
	ClassAuthenticationMethod AttributeClass = 3
	ClassGroupDescription     AttributeClass = 4
	ClassGroupType            AttributeClass = 5
	ClassGroupPrime           AttributeClass = 6
	ClassGroupGeneratorOne    AttributeClass = 7
	ClassGroupGeneratorTwo    AttributeClass = 8
	ClassGroupCurveA          AttributeClass = 9
	ClassGroupCurveB          AttributeClass = 10
	ClassLifeType             AttributeClass = 11
	ClassLifeDuration         AttributeClass = 12
	ClassPRF                  AttributeClass = 13
	ClassKeyLength            AttributeClass = 14
	ClassFieldSize            AttributeClass = 15
	ClassGroupOrder           AttributeClass = 16
)

var classNames = map[uint32]string{
	1: "Encryption Algorithm", 2: "Hash Algorithm", 3: "Authentication Method",
	4: "Group Description", 5: "Group Type", 6: "Group Prime/Irreducible Polynomial",
	7: "Group Generator One", 8: "Group Generator Two", 9: "Group Curve A",
	10: "Group Curve B", 11: "Life Type", 12: "Life Duration", 13: "PRF",
	14: "Key Length", 15: "Field Size", 16: "Group Order",
}

// String returns the IANA name, e.g. "Hash Algorithm".
func (c AttributeClass) String() string { return name(classNames, "AttributeClass", uint32(c)) }

// EncryptionAlgorithm is a value of [ClassEncryptionAlgorithm].
type EncryptionAlgorithm uint16

// Phase-1 encryption algorithms.
const (
	EncDESCBC      EncryptionAlgorithm = 1
	EncIDEACBC     EncryptionAlgorithm = 2
	EncBlowfishCBC EncryptionAlgorithm = 3
	EncRC5CBC      EncryptionAlgorithm = 4
	Enc3DESCBC     EncryptionAlgorithm = 5
	EncCASTCBC     EncryptionAlgorithm = 6
	EncAESCBC      EncryptionAlgorithm = 7
	EncCamelliaCBC EncryptionAlgorithm = 8
)

var encNames = map[uint32]string{
	1: "DES-CBC", 2: "IDEA-CBC", 3: "Blowfish-CBC", 4: "RC5-R16-B64-CBC",
	5: "3DES-CBC", 6: "CAST-CBC", 7: "AES-CBC", 8: "CAMELLIA-CBC",
}

// String returns the IANA name, e.g. "AES-CBC".
func (e EncryptionAlgorithm) String() string {
	return name(encNames, "EncryptionAlgorithm", uint32(e))
}

// HashAlgorithm is a value of [ClassHashAlgorithm].
type HashAlgorithm uint16

// Phase-1 hash algorithms.
const (
	HashMD5     HashAlgorithm = 1
	HashSHA     HashAlgorithm = 2
	HashTiger   HashAlgorithm = 3
	HashSHA2256 HashAlgorithm = 4
	HashSHA2384 HashAlgorithm = 5
	HashSHA2512 HashAlgorithm = 6
)

var hashNames = map[uint32]string{
	1: "MD5", 2: "SHA", 3: "Tiger", 4: "SHA2-256", 5: "SHA2-384", 6: "SHA2-512",
}

// String returns the IANA name, e.g. "SHA2-256".
func (h HashAlgorithm) String() string { return name(hashNames, "HashAlgorithm", uint32(h)) }

// AuthMethod is a value of [ClassAuthenticationMethod].
type AuthMethod uint16

// Phase-1 authentication methods.
const (
	AuthPreSharedKey             AuthMethod = 1
	AuthDSS                      AuthMethod = 2
	AuthRSA                      AuthMethod = 3
	AuthRSAEncryption            AuthMethod = 4
	AuthRevisedRSAEncryption     AuthMethod = 5
	AuthElGamalEncryption        AuthMethod = 6
	AuthRevisedElGamalEncryption AuthMethod = 7
	AuthECDSA                    AuthMethod = 8
	AuthECDSAP256SHA256          AuthMethod = 9
	AuthECDSAP384SHA384          AuthMethod = 10
	AuthECDSAP521SHA512          AuthMethod = 11
)

var authNames = map[uint32]string{
	1: "pre-shared key", 2: "DSS signatures", 3: "RSA signatures",
	4: "Encryption with RSA", 5: "Revised encryption with RSA",
	6: "Encryption with El-Gamal", 7: "Revised encryption with El-Gamal",
	8: "ECDSA signatures", 9: "ECDSA with SHA-256 on the P-256 curve",
	10: "ECDSA with SHA-384 on the P-384 curve", 11: "ECDSA with SHA-512 on the P-521 curve",
}

// String returns the IANA name, e.g. "pre-shared key".
func (a AuthMethod) String() string { return name(authNames, "AuthMethod", uint32(a)) }

// GroupType is a value of [ClassGroupType].
type GroupType uint16

// Group types.
const (
	GroupTypeMODP GroupType = 1
	GroupTypeECP  GroupType = 2
	GroupTypeEC2N GroupType = 3
)

// String returns the IANA name, e.g. "MODP".
func (g GroupType) String() string {
	return name(map[uint32]string{1: "MODP", 2: "ECP", 3: "EC2N"}, "GroupType", uint32(g))
}

// GroupDescription is a Diffie-Hellman group number, the value of
// [ClassGroupDescription] in phase 1 and of [IPsecAttrGroupDescription] (PFS)
// in phase 2.
type GroupDescription uint16

// Diffie-Hellman groups.
const (
	GroupMODP768       GroupDescription = 1
	GroupMODP1024      GroupDescription = 2
	GroupEC2N155       GroupDescription = 3
	GroupEC2N185       GroupDescription = 4
	GroupMODP1536      GroupDescription = 5
	GroupMODP2048      GroupDescription = 14
	GroupMODP3072      GroupDescription = 15
	GroupMODP4096      GroupDescription = 16
	GroupMODP6144      GroupDescription = 17
	GroupMODP8192      GroupDescription = 18
	GroupECP256        GroupDescription = 19
	GroupECP384        GroupDescription = 20
	GroupECP521        GroupDescription = 21
	GroupMODP1024S160  GroupDescription = 22
	GroupMODP2048S224  GroupDescription = 23
	GroupMODP2048S256  GroupDescription = 24
	GroupECP192        GroupDescription = 25
	GroupECP224        GroupDescription = 26
	GroupBrainpoolP224 GroupDescription = 27
	GroupBrainpoolP256 GroupDescription = 28
	GroupBrainpoolP384 GroupDescription = 29
	GroupBrainpoolP512 GroupDescription = 30
	GroupCurve25519    GroupDescription = 31
	GroupCurve448      GroupDescription = 32
)

var groupNames = map[uint32]string{
	1: "default 768-bit MODP group", 2: "alternate 1024-bit MODP group",
	3: "EC2N group on GP[2^155]", 4: "EC2N group on GP[2^185]",
	5: "1536-bit MODP group", 14: "2048-bit MODP group", 15: "3072-bit MODP group",
	16: "4096-bit MODP group", 17: "6144-bit MODP group", 18: "8192-bit MODP group",
	19: "256-bit random ECP group", 20: "384-bit random ECP group",
	21: "521-bit random ECP group", 22: "1024-bit MODP Group with 160-bit Prime Order Subgroup",
	23: "2048-bit MODP Group with 224-bit Prime Order Subgroup",
	24: "2048-bit MODP Group with 256-bit Prime Order Subgroup",
	25: "192-bit Random ECP Group", 26: "224-bit Random ECP Group",
	27: "224-bit Brainpool ECP group", 28: "256-bit Brainpool ECP group",
	29: "384-bit Brainpool ECP group", 30: "512-bit Brainpool ECP group",
	31: "Curve25519", 32: "Curve448",
}

// String returns the IANA name, e.g. "2048-bit MODP group".
func (g GroupDescription) String() string { return name(groupNames, "GroupDescription", uint32(g)) }

// LifeType is a value of [ClassLifeType] and of [IPsecAttrSALifeType].
type LifeType uint16

// Life types.
const (
	LifeSeconds   LifeType = 1
	LifeKilobytes LifeType = 2
)

// String returns the IANA name, e.g. "seconds".
func (l LifeType) String() string {
	return name(map[uint32]string{1: "seconds", 2: "kilobytes"}, "LifeType", uint32(l))
}

// IPsecAttributeType is an IPsec DOI SA attribute type (IANA "IPSEC Security
// Association Attributes", RFC 2407 §4.5).
type IPsecAttributeType uint16

// IPsec DOI attribute types.
const (
	IPsecAttrSALifeType               IPsecAttributeType = 1
	IPsecAttrSALifeDuration           IPsecAttributeType = 2
	IPsecAttrGroupDescription         IPsecAttributeType = 3
	IPsecAttrEncapsulationMode        IPsecAttributeType = 4
	IPsecAttrAuthenticationAlgorithm  IPsecAttributeType = 5
	IPsecAttrKeyLength                IPsecAttributeType = 6
	IPsecAttrKeyRounds                IPsecAttributeType = 7
	IPsecAttrCompressDictionarySize   IPsecAttributeType = 8
	IPsecAttrCompressPrivateAlgorithm IPsecAttributeType = 9
	IPsecAttrECNTunnel                IPsecAttributeType = 10
	IPsecAttrExtendedSequenceNumber   IPsecAttributeType = 11
	IPsecAttrAuthenticationKeyLength  IPsecAttributeType = 12
	IPsecAttrSignatureEncoding        IPsecAttributeType = 13
	IPsecAttrAddressPreservation      IPsecAttributeType = 14
	IPsecAttrSADirection              IPsecAttributeType = 15
)

var ipsecAttrNames = map[uint32]string{
	1: "SA Life Type", 2: "SA Life Duration", 3: "Group Description",
	4: "Encapsulation Mode", 5: "Authentication Algorithm", 6: "Key Length",
	7: "Key Rounds", 8: "Compress Dictionary Size", 9: "Compress Private Algorithm",
	10: "ECN Tunnel", 11: "Extended (64-bit) Sequence Number",
	12: "Authentication Key Length", 13: "Signature Encoding Algorithm",
	14: "Address Preservation", 15: "SA Direction",
}

// String returns the IANA name, e.g. "Encapsulation Mode".
func (t IPsecAttributeType) String() string {
	return name(ipsecAttrNames, "IPsecAttributeType", uint32(t))
}

// EncapsulationMode is a value of [IPsecAttrEncapsulationMode].
type EncapsulationMode uint16

// Encapsulation modes. The Draft values were used by NAT-T drafts before
// RFC 3947 and are still sent by some peers.
const (
	EncapTunnel            EncapsulationMode = 1
	EncapTransport         EncapsulationMode = 2
	EncapUDPTunnel         EncapsulationMode = 3
	EncapUDPTransport      EncapsulationMode = 4
	EncapUDPTunnelDraft    EncapsulationMode = 61443
	EncapUDPTransportDraft EncapsulationMode = 61444
)

var encapNames = map[uint32]string{
	1: "Tunnel", 2: "Transport", 3: "UDP-Encapsulated-Tunnel", 4: "UDP-Encapsulated-Transport",
	61443: "UDP-Encapsulated-Tunnel (draft)", 61444: "UDP-Encapsulated-Transport (draft)",
}

// String returns the IANA name, e.g. "UDP-Encapsulated-Tunnel".
func (e EncapsulationMode) String() string { return name(encapNames, "EncapsulationMode", uint32(e)) }

// AuthAlgorithm is a value of [IPsecAttrAuthenticationAlgorithm].
type AuthAlgorithm uint16

// IPsec authentication algorithms.
const (
	AuthHMACMD5     AuthAlgorithm = 1
	AuthHMACSHA     AuthAlgorithm = 2
	AuthDESMAC      AuthAlgorithm = 3
	AuthKPDK        AuthAlgorithm = 4
	AuthHMACSHA2256 AuthAlgorithm = 5
	AuthHMACSHA2384 AuthAlgorithm = 6
	AuthHMACSHA2512 AuthAlgorithm = 7
	AuthHMACRIPEMD  AuthAlgorithm = 8
	AuthAESXCBCMAC  AuthAlgorithm = 9
	AuthSIGRSA      AuthAlgorithm = 10
	AuthAES128GMAC  AuthAlgorithm = 11
	AuthAES192GMAC  AuthAlgorithm = 12
	AuthAES256GMAC  AuthAlgorithm = 13
)

var authAlgNames = map[uint32]string{
	1: "HMAC-MD5", 2: "HMAC-SHA", 3: "DES-MAC", 4: "KPDK", 5: "HMAC-SHA2-256",
	6: "HMAC-SHA2-384", 7: "HMAC-SHA2-512", 8: "HMAC-RIPEMD", 9: "AES-XCBC-MAC",
	10: "SIG-RSA", 11: "AES-128-GMAC", 12: "AES-192-GMAC", 13: "AES-256-GMAC",
}

// String returns the IANA name, e.g. "HMAC-SHA".
func (a AuthAlgorithm) String() string { return name(authAlgNames, "AuthAlgorithm", uint32(a)) }

// ECNTunnel is a value of [IPsecAttrECNTunnel].
type ECNTunnel uint16

// ECN tunnel values.
const (
	ECNAllowed   ECNTunnel = 1
	ECNForbidden ECNTunnel = 2
)

// String returns the IANA name.
func (e ECNTunnel) String() string {
	return name(map[uint32]string{1: "Allowed", 2: "Forbidden"}, "ECNTunnel", uint32(e))
}

// IDType is an IPsec DOI identification type (RFC 2407 §4.6.2.1).
type IDType uint8

// Identification types.
const (
	IDIPv4Addr       IDType = 1
	IDFQDN           IDType = 2
	IDUserFQDN       IDType = 3
	IDIPv4AddrSubnet IDType = 4
	IDIPv6Addr       IDType = 5
	IDIPv6AddrSubnet IDType = 6
	IDIPv4AddrRange  IDType = 7
	IDIPv6AddrRange  IDType = 8
	IDDERASN1DN      IDType = 9
	IDDERASN1GN      IDType = 10
	IDKeyID          IDType = 11
)

var idNames = map[uint32]string{
	1: "ID_IPV4_ADDR", 2: "ID_FQDN", 3: "ID_USER_FQDN", 4: "ID_IPV4_ADDR_SUBNET",
	5: "ID_IPV6_ADDR", 6: "ID_IPV6_ADDR_SUBNET", 7: "ID_IPV4_ADDR_RANGE",
	8: "ID_IPV6_ADDR_RANGE", 9: "ID_DER_ASN1_DN", 10: "ID_DER_ASN1_GN", 11: "ID_KEY_ID",
}

// String returns the IANA name, e.g. "ID_IPV4_ADDR".
func (t IDType) String() string { return name(idNames, "IDType", uint32(t)) }

// CertEncoding is a certificate encoding of CERT and CR payloads (RFC 2408
// §3.9).
type CertEncoding uint8

// Certificate encodings.
const (
	CertNone            CertEncoding = 0
	CertPKCS7           CertEncoding = 1
	CertPGP             CertEncoding = 2
	CertDNSSignedKey    CertEncoding = 3
	CertX509Signature   CertEncoding = 4
	CertX509KeyExchange CertEncoding = 5
	CertKerberos        CertEncoding = 6
	CertCRL             CertEncoding = 7
	CertARL             CertEncoding = 8
	CertSPKI            CertEncoding = 9
	CertX509Attribute   CertEncoding = 10
)

var certNames = map[uint32]string{
	0: "NONE", 1: "PKCS #7 wrapped X.509 certificate", 2: "PGP Certificate",
	3: "DNS Signed Key", 4: "X.509 Certificate - Signature",
	5: "X.509 Certificate - Key Exchange", 6: "Kerberos Tokens",
	7: "Certificate Revocation List (CRL)", 8: "Authority Revocation List (ARL)",
	9: "SPKI Certificate", 10: "X.509 Certificate - Attribute",
}

// String returns the IANA name.
func (c CertEncoding) String() string { return name(certNames, "CertEncoding", uint32(c)) }
