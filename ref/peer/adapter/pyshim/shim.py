#!/usr/bin/python3
"""IKEv1 Quick Mode / ESP gateway peer speaking the hitless adapter protocol.

A second, independent implementation of the gateway behaviour of the Go
reference (ref/gateway, ref/quickmode, ref/sadb, ref/esp), written from the
RFCs (2407, 2408, 2409 §5.5/§5.7, 4303, 3948) and the reference's
documented choices. Line-delimited JSON on stdin/stdout (../PROTOCOL.md);
see README.md beside this file.
"""

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import random
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover
    AESGCM = None
try:  # TripleDES moved in newer releases
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover
    TripleDES = getattr(algorithms, "TripleDES", None)

VERSION = 1
SECOND = 1_000_000_000
MS = 1_000_000

# ---------------------------------------------------------------------------
# Names and constants

INPUT_KINDS = ["", "receive", "send", "tick", "rekey", "delete"]
TRANSPORTS = ["", "udp500", "udp4500", "esp"]
UDP500, UDP4500, ESP = 1, 2, 3
INBOUND, OUTBOUND = 1, 2
DIRS = ["", "inbound", "outbound"]

# ISAKMP payload types
P_NONE, P_SA, P_PROP, P_TRANS, P_KE, P_ID, P_HASH, P_NONCE, P_N, P_D, P_VID = 0, 1, 2, 3, 4, 5, 8, 10, 11, 12, 13
P_NATOA, P_NATOA_DRAFT = 21, 131
EX_QM, EX_INFO = 32, 5
F_ENC, F_COMMIT, F_AUTH = 1, 2, 4
DOI_IPSEC = 1
PROTO_ISAKMP, PROTO_ESP = 1, 3
N_CONNECTED, N_RESPONDER_LIFETIME = 16384, 24576

NOTIFY_NAMES = {
    0: "NONE", 1: "INVALID-PAYLOAD-TYPE", 2: "DOI-NOT-SUPPORTED", 3: "SITUATION-NOT-SUPPORTED",
    4: "INVALID-COOKIE", 5: "INVALID-MAJOR-VERSION", 6: "INVALID-MINOR-VERSION",
    7: "INVALID-EXCHANGE-TYPE", 8: "INVALID-FLAGS", 9: "INVALID-MESSAGE-ID",
    10: "INVALID-PROTOCOL-ID", 11: "INVALID-SPI", 12: "INVALID-TRANSFORM-ID",
    13: "ATTRIBUTES-NOT-SUPPORTED", 14: "NO-PROPOSAL-CHOSEN", 15: "BAD-PROPOSAL-SYNTAX",
    16: "PAYLOAD-MALFORMED", 17: "INVALID-KEY-INFORMATION", 18: "INVALID-ID-INFORMATION",
    23: "INVALID-HASH-INFORMATION", 24: "AUTHENTICATION-FAILED",
}
N_INVALID_PAYLOAD, N_INVALID_COOKIE, N_INVALID_MAJOR = 1, 4, 5
N_INVALID_EXCHANGE, N_INVALID_FLAGS, N_INVALID_MID = 7, 8, 9
N_INVALID_PROTOCOL, N_INVALID_SPI, N_NO_PROPOSAL = 10, 11, 14
N_MALFORMED, N_INVALID_KE, N_INVALID_ID, N_INVALID_HASH = 16, 17, 18, 23

# IPsec DOI attribute types
A_LIFE_TYPE, A_LIFE_DUR, A_GROUP, A_ENCAP, A_AUTH, A_KEYLEN = 1, 2, 3, 4, 5, 6
LIFE_SECONDS, LIFE_KB = 1, 2
DEFAULT_LIFE_SECONDS = 28800

ESP_IDS = {"aes-cbc": 12, "aes-gcm-16": 20, "null": 11}
AUTH_IDS = {"none": 0, "hmac-sha1-96": 2, "hmac-sha2-256-128": 5}
MODE_TUNNEL, MODE_TRANSPORT = 1, 2
PRFS = {"md5": "md5", "sha1": "sha1", "sha2-256": "sha256", "sha2-384": "sha384", "sha2-512": "sha512"}

# Profiles: (resp_in, resp_out, resp_act, init_in, init_out, init_act, commit)
ST_QM1, ST_QM2, ST_QM3, ST_AFTER_QM3, ST_FIRST_ESP, ST_CONNECTED = 1, 2, 3, 4, 5, 6
PROFILES = {
    "hitless": (ST_QM1, ST_QM1, ST_FIRST_ESP, ST_QM2, ST_QM2, ST_QM2, False),
    "install-at-qm3": (ST_QM3, ST_QM3, ST_QM3, ST_QM2, ST_QM2, ST_QM2, False),
    "inbound-qm1-outbound-qm3": (ST_QM1, ST_QM3, ST_QM3, ST_QM2, ST_QM2, ST_QM2, False),
    "activate-at-qm1": (ST_QM1, ST_QM1, ST_QM1, ST_QM2, ST_QM2, ST_QM2, False),
    "initiator-after-qm3": (ST_QM3, ST_QM3, ST_QM3, ST_AFTER_QM3, ST_AFTER_QM3, ST_AFTER_QM3, False),
    "commit-bit": (ST_QM3, ST_QM3, ST_CONNECTED, ST_QM2, ST_QM2, ST_CONNECTED, True),
}

# Quick Mode defaults (ref/quickmode New)
NONCE_LEN = 32
MAX_HALF_OPEN = 16
MAX_COMPLETED = 32
MAX_MESSAGE = 16384
RESPONDER_TIMEOUT = 60 * SECOND
# Gateway defaults (ref/gateway New)
MAX_QUEUE = 16
MAX_SAS_PER_FLOW = 8
DELETE_GRACE = SECOND
DELETE_RETX_INITIAL, DELETE_RETX_FACTOR, DELETE_RETX_TRIES = SECOND, 2, 6
MAX_INFO_IDS = 64
MAX_REMEMBERED = 32
MAX_ANSWERS = 16
MAX_INFO_SIZE = 4096
REPLAY_WINDOW = 128  # esp.DefaultReplayWindow
SEQ_SOFT_MARGIN = 1 << 28
MAX_SEQ = 0xFFFFFFFF


def log(*a):
    print("pyshim:", *a, file=sys.stderr, flush=True)


class QMError(Exception):
    def __init__(self, msg, notify=0):
        super().__init__(msg)
        self.notify = notify


class ConfigError(Exception):
    pass


# ---------------------------------------------------------------------------
# Crypto helpers

class PRF:
    def __init__(self, name):
        self.h = PRFS[name]
        self.size = hashlib.new(self.h).digest_size

    def mac(self, key, *data):
        return hmac.new(key, b"".join(data), self.h).digest()

    def digest(self, *data):
        return hashlib.new(self.h, b"".join(data)).digest()


class IKECipher:
    def __init__(self, encr, key):
        if encr == "aes-cbc":
            if len(key) not in (16, 24, 32):
                raise ConfigError("aes-cbc key of %d bytes" % len(key))
            self.alg, self.bs = algorithms.AES, 16
        elif encr == "3des-cbc":
            if len(key) != 24 or TripleDES is None:
                raise ConfigError("3des-cbc key of %d bytes" % len(key))
            self.alg, self.bs = TripleDES, 8
        else:
            raise ConfigError("unknown phase-1 cipher %r" % encr)
        self.key = key

    def encrypt(self, iv, plain):
        n = (len(plain) // self.bs + 1) * self.bs
        pad = n - len(plain)
        data = plain + b"\0" * (pad - 1) + bytes([pad - 1])
        e = Cipher(self.alg(self.key), modes.CBC(iv)).encryptor()
        ct = e.update(data) + e.finalize()
        return ct, ct[-self.bs:]

    def decrypt(self, iv, ct):
        if len(ct) == 0 or len(ct) % self.bs:
            raise QMError("decryption: ciphertext of %d bytes" % len(ct), N_MALFORMED)
        d = Cipher(self.alg(self.key), modes.CBC(iv)).decryptor()
        return d.update(ct) + d.finalize(), ct[-self.bs:]


def mid_bytes(mid):
    return struct.pack(">I", mid)


# ---------------------------------------------------------------------------
# ISAKMP encoding

def payload(np, body):
    return struct.pack(">BBH", np, 0, 4 + len(body)) + body


def chain(items):
    """items: list of (type, body); returns the encoded chain."""
    out = b""
    for i, (t, body) in enumerate(items):
        np = items[i + 1][0] if i + 1 < len(items) else P_NONE
        out += payload(np, body)
    return out


def attr_basic(t, v):
    return struct.pack(">HH", 0x8000 | t, v)


def attr_uint(t, v):
    if v <= 0xFFFF:
        return attr_basic(t, v)
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return struct.pack(">HH", t, len(b)) + b


def transform_attrs(t, group, encap):
    a = b""
    if t["sec"]:
        a += attr_basic(A_LIFE_TYPE, LIFE_SECONDS) + attr_uint(A_LIFE_DUR, t["sec"])
    if t["kb"]:
        a += attr_basic(A_LIFE_TYPE, LIFE_KB) + attr_uint(A_LIFE_DUR, t["kb"])
    if group:
        a += attr_basic(A_GROUP, group)
    a += attr_basic(A_ENCAP, encap)
    if t["auth"]:
        a += attr_basic(A_AUTH, t["auth"])
    if t["keybits"]:
        a += attr_basic(A_KEYLEN, t["keybits"])
    return a


def sa_payload_body(prop_num, spi, tr_num, t, group, encap):
    tbody = struct.pack(">BBH", tr_num, t["id"], 0) + transform_attrs(t, group, encap)
    trans = payload(P_NONE, tbody)
    spib = struct.pack(">I", spi)
    pbody = struct.pack(">BBBB", prop_num, PROTO_ESP, 4, 1) + spib + trans
    prop = payload(P_NONE, pbody)
    return struct.pack(">II", DOI_IPSEC, 1) + prop


def header(cki, ckr, np, exch, flags, mid, length):
    return cki + ckr + struct.pack(">BBBBII", np, 0x10, exch, flags, mid, length)


def parse_header(b):
    if len(b) < 28:
        raise QMError("malformed ISAKMP message: truncated header", N_MALFORMED)
    cki, ckr = b[0:8], b[8:16]
    np, ver, exch, flags, mid, length = struct.unpack(">BBBBII", b[16:28])
    if ver >> 4 != 1:
        raise QMError("malformed ISAKMP message: major version", N_INVALID_MAJOR)
    if ver & 0xF != 0:
        raise QMError("malformed ISAKMP message: minor version", 6)
    if flags & ~7:
        raise QMError("malformed ISAKMP message: flags", N_INVALID_FLAGS)
    if length < 28:
        raise QMError("malformed ISAKMP message: length", N_MALFORMED)
    if length > len(b):
        raise QMError("malformed ISAKMP message: truncated", N_MALFORMED)
    if length < len(b):
        raise QMError("malformed ISAKMP message: trailing data", N_MALFORMED)
    return dict(cki=cki, ckr=ckr, np=np, exch=exch, flags=flags, mid=mid, length=length), b[28:length]


def walk(first, buf):
    """Yields (type, body, start, end) of each payload of a chain; bytes
    after the chain end are padding."""
    off, np, out = 0, first, []
    while np != P_NONE:
        if len(buf) - off < 4:
            raise QMError("malformed payload chain: truncated", N_MALFORMED)
        nxt, _res, ln = struct.unpack(">BBH", buf[off:off + 4])
        if ln < 4 or off + ln > len(buf):
            raise QMError("malformed payload chain: length", N_MALFORMED)
        out.append((np, buf[off + 4:off + ln], off, off + ln))
        off += ln
        np = nxt
    return out, off


def parse_attrs(b):
    attrs, off = [], 0
    while off < len(b):
        if len(b) - off < 4:
            raise QMError("malformed attribute", N_MALFORMED)
        t, v = struct.unpack(">HH", b[off:off + 4])
        off += 4
        if t & 0x8000:
            attrs.append((t & 0x7FFF, v, True))
        else:
            if off + v > len(b):
                raise QMError("malformed attribute", N_MALFORMED)
            d = b[off:off + v]
            off += v
            attrs.append((t, d, False))
    return attrs


def parse_sa(body):
    """Returns a list of proposals: dict(num, proto, spi, ntrans, transforms=[(num, id, attrs)])."""
    if len(body) < 8:
        raise QMError("malformed SA", N_MALFORMED)
    doi, sit = struct.unpack(">II", body[:8])
    if doi != DOI_IPSEC:
        raise QMError("SA: DOI %d" % doi, 2)
    if sit & ~1:
        raise QMError("SA: situation", 3)
    props, off, np = [], 8, P_PROP
    if off >= len(body):
        raise QMError("SA without proposal", N_MALFORMED)
    while np != P_NONE:
        if np != P_PROP or len(body) - off < 8:
            raise QMError("malformed proposal", N_MALFORMED)
        nxt, _r, ln = struct.unpack(">BBH", body[off:off + 4])
        if ln < 8 or off + ln > len(body):
            raise QMError("malformed proposal", N_MALFORMED)
        num, proto, spisz, ntr = struct.unpack(">BBBB", body[off + 4:off + 8])
        pb = body[off + 8:off + ln]
        if len(pb) < spisz:
            raise QMError("malformed proposal", N_MALFORMED)
        spi, tb = pb[:spisz], pb[spisz:]
        trans, toff, tnp = [], 0, P_TRANS if ntr else P_NONE
        while tnp != P_NONE:
            if tnp != P_TRANS or len(tb) - toff < 8:
                raise QMError("malformed transform", N_MALFORMED)
            tn, _r2, tl = struct.unpack(">BBH", tb[toff:toff + 4])
            if tl < 8 or toff + tl > len(tb):
                raise QMError("malformed transform", N_MALFORMED)
            tnum, tid = tb[toff + 4], tb[toff + 5]
            trans.append((tnum, tid, parse_attrs(tb[toff + 8:toff + tl])))
            toff += tl
            tnp = tn
        if toff != len(tb) or len(trans) != ntr:
            raise QMError("malformed proposal: transform count", N_MALFORMED)
        props.append(dict(num=num, proto=proto, spi=spi, ntrans=ntr, transforms=trans))
        off += ln
        np = nxt
    if off != len(body):
        raise QMError("malformed SA: trailing data", N_MALFORMED)
    return props


def keymat_lens(esp_id, keybits, auth):
    if esp_id == 11:
        if keybits:
            return None
        e, s = 0, 0
    elif esp_id in (12, 20):
        if keybits not in (128, 192, 256):
            return None
        e, s = keybits // 8, (4 if esp_id == 20 else 0)
    elif esp_id == 3:
        return None  # 3DES ESP: not in the data plane
    else:
        return None
    i = {0: 0, 2: 20, 5: 32}.get(auth)
    if i is None:
        return None
    if (esp_id == 20) != (auth == 0):
        return None
    return e, s, i


def mode_of(encap):
    return {1: (MODE_TUNNEL, False, False), 2: (MODE_TRANSPORT, False, False),
            3: (MODE_TUNNEL, True, False), 4: (MODE_TRANSPORT, True, False),
            61443: (MODE_TUNNEL, True, True), 61444: (MODE_TRANSPORT, True, True)}.get(encap)


def mode_wire(mode, natt):
    if not natt:
        return mode
    return 3 if mode == MODE_TUNNEL else 4


def read_transform(tnum, tid, attrs):
    """An offer dict or None (quickmode readTransform)."""
    o = dict(trnum=tnum, id=tid, keybits=0, auth=0, sec=0, kb=0, group=0, encap=0)
    seen, life = set(), 0
    for t, v, basic in attrs:
        if not basic:
            if len(v) == 0 or len(v) > 8:
                return None
            v = int.from_bytes(v, "big")
        if t == A_LIFE_TYPE:
            if life != 0 or v not in (LIFE_SECONDS, LIFE_KB):
                return None
            life = v
            continue
        if t == A_LIFE_DUR:
            d = min(v, 0xFFFFFFFF)
            if life == LIFE_SECONDS and o["sec"] == 0 and d != 0:
                o["sec"] = d
            elif life == LIFE_KB and o["kb"] == 0 and d != 0:
                o["kb"] = d
            else:
                return None
            life = 0
            continue
        if t in (A_GROUP, A_ENCAP, A_AUTH, A_KEYLEN):
            if t in seen or v > 0xFFFF:
                return None
            seen.add(t)
        else:
            return None
        if t == A_GROUP:
            o["group"] = v
        elif t == A_ENCAP:
            o["encap"] = v
        elif t == A_AUTH:
            o["auth"] = v
        elif t == A_KEYLEN:
            o["keybits"] = v
    if life != 0:
        return None
    m = mode_of(o["encap"])
    if m is None:
        return None
    o["mode"], o["udp"], o["draft"] = m
    if keymat_lens(o["id"], o["keybits"], o["auth"]) is None:
        return None
    return o


def lower_life(t, sec, kb):
    s = t["sec"] or DEFAULT_LIFE_SECONDS
    if sec and sec < s:
        s = sec
    k = t["kb"]
    if kb and (k == 0 or kb < k):
        k = kb
    return s, k


def lifetime_data(sec, kb):
    b = b""
    if sec:
        b += struct.pack(">HHHHI", 0x8000 | A_LIFE_TYPE, LIFE_SECONDS, A_LIFE_DUR, 4, sec)
    if kb:
        b += struct.pack(">HHHHI", 0x8000 | A_LIFE_TYPE, LIFE_KB, A_LIFE_DUR, 4, kb)
    return b


def parse_lifetime(data):
    sec = kb = 0
    life, off = 0, 0
    while off < len(data):
        if len(data) - off < 4:
            return None
        t, v = struct.unpack(">HH", data[off:off + 4])
        off += 4
        if not t & 0x8000:
            if v == 0 or v > 8 or off + v > len(data):
                return None
            val = int.from_bytes(data[off:off + v], "big")
            off += v
        else:
            val = v
        t &= 0x7FFF
        if t == A_LIFE_TYPE:
            if val not in (LIFE_SECONDS, LIFE_KB):
                return None
            life = val
        elif t == A_LIFE_DUR:
            d = min(val, 0xFFFFFFFF)
            if life == LIFE_SECONDS:
                sec = d
            elif life == LIFE_KB:
                kb = d
            else:
                return None
            life = 0
        else:
            return None
    if life != 0:
        return None
    return sec, kb


# Selectors: (addr: ip_address, bits, protocol, port)

def selector_of_prefix(s, proto, port):
    if "/" not in s:
        raise ConfigError("selector %r is not a prefix" % s)
    a, bits = s.split("/", 1)
    addr = ipaddress.ip_address(a)
    if not bits.isdigit() or int(bits) > addr.max_prefixlen:
        raise ConfigError("selector %r is not a prefix" % s)
    return (addr, int(bits), proto, port)


def id_body(sel):
    addr, bits, proto, port = sel
    if bits == addr.max_prefixlen:
        t = 1 if addr.version == 4 else 5
        return struct.pack(">BBH", t, proto, port) + addr.packed
    net = ipaddress.ip_network("%s/%d" % (addr, bits), strict=False)
    t = 4 if addr.version == 4 else 6
    return struct.pack(">BBH", t, proto, port) + net.network_address.packed + net.netmask.packed


def selector_of_id(body):
    if len(body) < 4:
        raise QMError("malformed ID", N_MALFORMED)
    t, proto, port = struct.unpack(">BBH", body[:4])
    d = body[4:]
    if t == 1 and len(d) == 4:
        return (ipaddress.IPv4Address(d), 32, proto, port)
    if t == 5 and len(d) == 16:
        return (ipaddress.IPv6Address(d), 128, proto, port)
    if t in (4, 6) and len(d) == (8 if t == 4 else 32):
        n = len(d) // 2
        addr = ipaddress.ip_address(d[:n])
        bits, zero = 0, False
        for c in d[n:]:
            for i in range(7, -1, -1):
                if c >> i & 1:
                    if zero:
                        return None
                    bits += 1
                else:
                    zero = True
        return (addr, bits, proto, port)
    return None


# ---------------------------------------------------------------------------
# ESP (RFC 4303, RFC 4106), as ref/esp

def transform_name(esp_id, keybits, auth):
    s = {11: "null", 12: "aes%d" % keybits, 20: "aes%dgcm16" % keybits}[esp_id]
    s += {0: "", 2: "-sha1", 5: "-sha256"}[auth]
    return s


class ESPDrop(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def inner_next_header(p):
    if len(p) == 0 or len(p) > 0xFFFF:
        return None
    v = p[0] >> 4
    if v == 4:
        ihl = (p[0] & 0xF) * 4
        if len(p) < 20 or ihl < 20:
            return None
        tl = struct.unpack(">H", p[2:4])[0]
        if tl < ihl or tl > len(p):
            return None
        return 4
    if v == 6:
        if len(p) < 40 or 40 + struct.unpack(">H", p[4:6])[0] > len(p):
            return None
        return 41
    return None


def inner_len(p):
    if p[0] >> 4 == 4:
        return struct.unpack(">H", p[2:4])[0]
    return 40 + struct.unpack(">H", p[4:6])[0]


class ESPSA:
    def __init__(self, spi, esp_id, keybits, auth, enc, salt, integ, rnd):
        self.spi, self.esp_id, self.rnd = spi, esp_id, rnd
        self.enc, self.salt, self.integ = enc, salt, integ
        self.hash = {2: "sha1", 5: "sha256"}.get(auth)
        self.icv = {2: 12, 5: 16}.get(auth, 0)
        self.align, self.ivlen = 4, 0
        if esp_id == 12:
            self.align, self.ivlen = 16, 16
        elif esp_id == 20:
            self.ivlen, self.icv = 8, 16
            self.gcm = AESGCM(enc)
        self.seq = 0
        self.top = 0
        self.bits = 0  # bitmap over [top-W+1, top], bit (top - seq)
        self.packets = 0
        self.bytes = 0

    def ct_len(self, n):
        n += 2
        return (n + self.align - 1) // self.align * self.align

    def seal(self, inner):
        nh = inner_next_header(inner)
        if nh is None:
            raise ESPDrop("malformed")
        if self.seq >= MAX_SEQ:
            raise ESPDrop("expired")
        seq = self.seq + 1
        ctl = self.ct_len(len(inner))
        padlen = ctl - len(inner) - 2
        plain = inner + bytes(i + 1 for i in range(padlen)) + bytes([padlen, nh])
        hdr = struct.pack(">II", self.spi, seq)
        if self.esp_id == 12:
            iv = self.rnd.randbytes(16)
            e = Cipher(algorithms.AES(self.enc), modes.CBC(iv)).encryptor()
            body = iv + e.update(plain) + e.finalize()
        elif self.esp_id == 20:
            iv = struct.pack(">Q", seq)
            body = iv + self.gcm.encrypt(self.salt + iv, plain, hdr)
        else:
            body = plain
        pkt = hdr + body
        if self.hash:
            pkt += hmac.new(self.integ, pkt, self.hash).digest()[:self.icv]
        self.seq = seq
        self.packets += 1
        self.bytes += len(inner)
        return pkt

    def _check(self, seq):
        if seq == 0:
            return "sequence number zero is never sent"
        if seq > self.top:
            return ""
        if self.top - seq >= REPLAY_WINDOW:
            return "left of the replay window"
        if self.bits >> (self.top - seq) & 1:
            return "duplicate sequence number"
        return ""

    def _update(self, seq):
        if seq > self.top:
            shift = seq - self.top
            self.bits = (self.bits << shift) & ((1 << REPLAY_WINDOW) - 1) if shift < REPLAY_WINDOW else 0
            self.top = seq
        self.bits |= 1 << (self.top - seq)

    def open(self, pkt):
        if len(pkt) < 8 + self.ivlen + self.align + self.icv:
            raise ESPDrop("malformed")
        seq = struct.unpack(">I", pkt[4:8])[0]
        if self._check(seq):
            raise ESPDrop("replay")
        body = pkt[8:len(pkt) - self.icv]
        iv, ct = body[:self.ivlen], body[self.ivlen:]
        if len(ct) % self.align:
            raise ESPDrop("malformed")
        if self.esp_id == 20:
            try:
                plain = self.gcm.decrypt(self.salt + iv, pkt[8 + self.ivlen:], pkt[:8])
            except Exception:
                raise ESPDrop("auth-failed")
        else:
            icv = pkt[len(pkt) - self.icv:]
            want = hmac.new(self.integ, pkt[:len(pkt) - self.icv], self.hash).digest()[:self.icv]
            if not hmac.compare_digest(icv, want):
                raise ESPDrop("auth-failed")
            if self.esp_id == 12:
                d = Cipher(algorithms.AES(self.enc), modes.CBC(iv)).decryptor()
                plain = d.update(ct) + d.finalize()
            else:
                plain = ct
        padlen, nh = plain[-2], plain[-1]
        if padlen + 2 > len(plain):
            raise ESPDrop("malformed")
        data = plain[:len(plain) - 2 - padlen]
        for i, p in enumerate(plain[len(data):len(plain) - 2]):
            if p != (i + 1) & 0xFF:
                raise ESPDrop("malformed")
        if nh == 59:
            self._update(seq)
            raise ESPDrop("dummy")
        if nh not in (4, 41):
            raise ESPDrop("malformed")
        if inner_next_header(data) != nh:
            raise ESPDrop("malformed")
        data = data[:inner_len(data)]
        self._update(seq)
        self.packets += 1
        self.bytes += len(data)
        return data


# ---------------------------------------------------------------------------
# SA database (ref/sadb)

class DBSA:
    def __init__(self, spi, direction, flow, mid, esp, transform, key_id, installed, soft, hard):
        self.spi, self.direction, self.flow, self.mid = spi, direction, flow, mid
        self.esp, self.transform, self.key_id, self.installed = esp, transform, key_id, installed
        self.soft, self.hard = soft, hard  # [time, bytes]
        self.active = self.proven = self.seen = self.soft_fired = False
        self.seq = 0

    def state(self):
        if self.direction == INBOUND:
            return "installed"
        return "active" if self.active else "inactive"

    def seq_soft_due(self):
        return self.direction == OUTBOUND and MAX_SEQ - self.esp.seq <= SEQ_SOFT_MARGIN

    def json(self):
        d = {"spi": self.spi, "direction": DIRS[self.direction], "flow": self.flow, "message_id": self.mid,
             "transform": self.transform, "key_id": self.key_id, "state": self.state(),
             "bytes": self.esp.bytes, "packets": self.esp.packets, "installed": self.installed}
        if self.soft[0]:
            d["soft_at"] = self.soft[0]
        if self.hard[0]:
            d["hard_at"] = self.hard[0]
        return d


class DB:
    def __init__(self, nflows):
        self.inb, self.outb, self.all = {}, {}, []
        self.flows = [dict(active=None, n=0, ever=False) for _ in range(nflows)]
        self.max_total = MAX_SAS_PER_FLOW * nflows
        self.seq = 0

    def table(self, d):
        return self.inb if d == INBOUND else self.outb

    def install(self, sa):
        if self.table(sa.direction).get(sa.spi) is not None:
            return "SA already installed"
        if self.flows[sa.flow]["n"] >= MAX_SAS_PER_FLOW:
            return "too many SAs for the flow"
        if len(self.all) >= self.max_total:
            return "too many SAs"
        self.seq += 1
        sa.seq = self.seq
        self.table(sa.direction)[sa.spi] = sa
        self.all.append(sa)
        self.flows[sa.flow]["n"] += 1
        return None

    def active(self, flow):
        return self.flows[flow]["active"] if 0 <= flow < len(self.flows) else None

    def established(self, flow):
        return 0 <= flow < len(self.flows) and self.flows[flow]["ever"]

    def pair(self, sa):
        for o in self.all:
            if o.mid == sa.mid and o.direction != sa.direction and o.flow == sa.flow:
                return o
        return None

    def by_mid(self, mid, d):
        for o in self.all:
            if o.mid == mid and o.direction == d:
                return o
        return None

    def activate(self, spi):
        """Returns (ok, prev)."""
        sa = self.outb.get(spi)
        if sa is None:
            return False, None
        f = self.flows[sa.flow]
        if f["active"] is sa:
            return True, None
        prev = f["active"]
        if prev is not None:
            prev.active = False
        sa.active, f["active"], f["ever"] = True, sa, True
        return True, prev

    def mark_seen(self, sa):
        if sa.seen:
            return False
        sa.seen = True
        p = self.pair(sa)
        if p is not None:
            p.proven = True
        return True

    def mark_proven(self, mid):
        sa = self.by_mid(mid, OUTBOUND)
        if sa is not None:
            sa.proven = True

    def delete(self, d, spi):
        t = self.table(d)
        sa = t.pop(spi, None)
        if sa is None:
            return None, None
        self.all.remove(sa)
        f = self.flows[sa.flow]
        f["n"] -= 1
        nxt = None
        if f["active"] is sa:
            sa.active, f["active"] = False, None
            for o in self.all:
                if o.flow == sa.flow and o.direction == OUTBOUND and o.proven and (nxt is None or o.seq > nxt.seq):
                    nxt = o
            if nxt is not None:
                nxt.active, f["active"] = True, nxt
        return sa, nxt

    def flow_len(self, flow):
        return self.flows[flow]["n"] if 0 <= flow < len(self.flows) else 0

    def due(self, now):
        out = []
        for sa in self.all:
            b = sa.esp.bytes
            if (sa.hard[0] and now >= sa.hard[0]) or (sa.hard[1] and b >= sa.hard[1]):
                out.append(("hard", sa))
                continue
            if not sa.soft_fired and ((sa.soft[0] and now >= sa.soft[0]) or (sa.soft[1] and b >= sa.soft[1])
                                      or sa.seq_soft_due()):
                sa.soft_fired = True
                out.append(("soft", sa))
        return out

    def next_deadline(self):
        ts = []
        for sa in self.all:
            if not sa.soft_fired and sa.soft[0]:
                ts.append(sa.soft[0])
            if sa.hard[0]:
                ts.append(sa.hard[0])
        return min(ts) if ts else None


# ---------------------------------------------------------------------------
# Quick Mode exchanges (ref/quickmode)

class Ev:
    __slots__ = ("kind", "role", "mid", "sa", "datagram", "reason")

    def __init__(self, kind, role, mid, sa=None, datagram=None, reason=""):
        self.kind, self.role, self.mid, self.sa, self.datagram, self.reason = kind, role, mid, sa, datagram, reason


class Exch:
    def __init__(self, role, st, mid):
        self.role, self.st, self.mid = role, st, mid
        self.iv = None
        self.ni = self.nr = None
        self.req = None
        self.spi_i = 0
        self.in_sa = self.out_sa = None
        self.in_done = self.out_done = self.active = False
        self.commit = False
        self.recv = self.sent = None
        self.tries = 0
        self.interval = 0
        self.timer = 0
        self.deadline = 0


class Done:
    def __init__(self, **kw):
        self.role = self.mid = None
        self.recv1 = self.resend1 = self.recv2 = self.resend2 = None
        self.late = False
        self.iv = self.ni = self.nr = None
        self.commit = False
        self.in_spi = 0
        self.__dict__.update(kw)


def parse_body(mid, first, plain):
    items, end = walk(first, plain)
    if not items:
        raise QMError("empty body", N_MALFORMED)
    if items[0][0] != P_HASH:
        raise QMError("HASH must be the first payload", N_MALFORMED)
    b = dict(hash=items[0][1], sa=None, nonce=None, ke=None, ids=[], oa=[], life=None, connected=False, others=0)
    hash_end = items[0][3]
    b["rest"] = plain[hash_end:end]
    for t, body, _s, _e in items[1:]:
        b["others"] += 1
        if t == P_SA:
            if b["sa"] is not None:
                raise QMError("repeated SA", N_INVALID_PAYLOAD)
            if b["others"] != 1:
                raise QMError("SA must follow HASH", N_INVALID_PAYLOAD)
            b["sa"] = parse_sa(body)
        elif t == P_NONCE:
            if b["nonce"] is not None:
                raise QMError("repeated nonce", N_INVALID_PAYLOAD)
            if not 8 <= len(body) <= 256:
                raise QMError("nonce length outside 8..256", N_MALFORMED)
            b["nonce"] = body
        elif t == P_KE:
            if b["ke"] is not None:
                raise QMError("repeated KE", N_INVALID_PAYLOAD)
            b["ke"] = body
        elif t == P_ID:
            if len(b["ids"]) == 2:
                raise QMError("repeated ID", N_INVALID_PAYLOAD)
            if len(body) < 4:
                raise QMError("malformed ID", N_MALFORMED)
            b["ids"].append(body)
        elif t in (P_NATOA, P_NATOA_DRAFT):
            if len(b["oa"]) == 2:
                raise QMError("repeated NAT-OA", N_INVALID_PAYLOAD)
            b["oa"].append(body)
        elif t == P_N:
            if len(body) < 8:
                raise QMError("malformed notification", N_MALFORMED)
            spisz = body[5]
            ntype = struct.unpack(">H", body[6:8])[0]
            if len(body) < 8 + spisz:
                raise QMError("malformed notification", N_MALFORMED)
            data = body[8 + spisz:]
            if ntype == N_RESPONDER_LIFETIME:
                if b["life"] is not None:
                    raise QMError("repeated RESPONDER-LIFETIME", N_INVALID_PAYLOAD)
                b["life"] = data
            elif ntype == N_CONNECTED:
                b["connected"] = True
            elif ntype < 16384:
                raise QMError("error notify %d" % ntype, N_INVALID_PAYLOAD)
        elif t == P_VID:
            pass
        else:
            raise QMError("unexpected payload %d" % t, N_INVALID_PAYLOAD)
    return b


class Exchanges:
    def __init__(self, cfg, prof, rnd):
        self.c = cfg
        self.prof = prof
        self.rnd = rnd
        self.open = []
        self.done = []

    # -- helpers
    def half_open(self):
        return len(self.open)

    def next_timeout(self):
        return min((e.timer for e in self.open), default=None)

    def find(self, mid):
        for e in self.open:
            if e.mid == mid:
                return e
        return None

    def find_done(self, mid):
        for d in self.done:
            if d.mid == mid:
                return d
        return None

    def complete(self, e, d):
        self.open.remove(e)
        d.role, d.mid = e.role, e.mid
        if len(self.done) == MAX_COMPLETED:
            self.done.pop(0)
        self.done.append(d)

    def new_mid(self):
        for _ in range(16):
            m = struct.unpack(">I", self.rnd.randbytes(4))[0]
            if m != 0 and self.find(m) is None and self.find_done(m) is None:
                return m
        raise QMError("no unused message ID drawn")

    def new_spi(self):
        for _ in range(16):
            s = struct.unpack(">I", self.rnd.randbytes(4))[0]
            if s > 255:
                return s
        raise QMError("no usable SPI drawn")

    def nonce(self):
        return self.rnd.randbytes(NONCE_LEN)

    def seal(self, mid, flags, iv, items, hash_fn):
        c = self.c
        hs = c.prf.size
        rest = chain(items)
        h = hash_fn(rest)
        np = items[0][0] if items else P_NONE
        plain = struct.pack(">BBH", np, 0, 4 + hs) + h + rest
        ct, nxt = c.cipher.encrypt(iv, plain)
        msg = header(c.cki, c.ckr, P_HASH, EX_QM, F_ENC | flags, mid, 28 + len(ct)) + ct
        return msg, nxt

    def open_body(self, h, ct, iv):
        plain, nxt = self.c.cipher.decrypt(iv, ct)
        return nxt, parse_body(h["mid"], h["np"], plain)

    def hash1(self, mid, rest):
        return self.c.prf.mac(self.c.skeyid_a, mid_bytes(mid), rest)

    def hash2(self, mid, ni, rest):
        return self.c.prf.mac(self.c.skeyid_a, mid_bytes(mid), ni, rest)

    def hash3(self, mid, ni, nr):
        return self.c.prf.mac(self.c.skeyid_a, b"\0", mid_bytes(mid), ni, nr)

    def info_hash(self, mid, payloads):
        return self.c.prf.mac(self.c.skeyid_a, mid_bytes(mid), payloads)

    def default_selectors(self):
        c = self.c
        return ((c.local_addr, c.local_addr.max_prefixlen, 0, 0), (c.peer_addr, c.peer_addr.max_prefixlen, 0, 0))

    def natoa(self, role):
        ai, ar = self.c.local_addr, self.c.peer_addr
        if role == "responder":
            ai, ar = ar, ai

        def mk(a):
            return (P_NATOA, struct.pack(">BBH", 1 if a.version == 4 else 5, 0, 0) + a.packed)
        return [mk(ai), mk(ar)]

    def keys(self, e, o, spi_r, local, remote):
        lens = keymat_lens(o["id"], o["keybits"], o["auth"])
        n = sum(lens)
        prf, d = self.c.prf, self.c.skeyid_d

        def mk(spi, direction):
            spib = struct.pack(">I", spi)
            km = b""
            k = b""
            while len(km) < n:
                k = prf.mac(d, k, bytes([PROTO_ESP]), spib, e.ni, e.nr)
                km += k
            el, sl, il = lens
            return dict(spi=spi, direction=direction, mid=e.mid, t=dict(o), local=local, remote=remote,
                        enc=km[:el], salt=km[el:el + sl], integ=km[el + sl:el + sl + il])
        if e.role == "responder":
            in_spi, out_spi = spi_r, e.spi_i
        else:
            in_spi, out_spi = e.spi_i, o["spi"]
        e.in_sa = mk(in_spi, INBOUND)
        e.out_sa = mk(out_spi, OUTBOUND)

    def stage(self, dst, e, s):
        ri, ro, ra, ii, io, ia, _commit = self.prof
        if e.role == "initiator":
            i, o, a = ii, io, ia
            if e.commit:
                a = ST_CONNECTED
            elif a == ST_CONNECTED:
                a = ST_AFTER_QM3
        else:
            i, o, a = ri, ro, ra
            if a == ST_FIRST_ESP and s == ST_QM3:
                a = ST_QM3
        if i == s and not e.in_done:
            e.in_done = True
            dst.append(Ev("installed-in", e.role, e.mid, sa=e.in_sa))
        if o == s and not e.out_done:
            e.out_done = True
            dst.append(Ev("installed-out", e.role, e.mid, sa=e.out_sa))
        if a == s and not e.active:
            e.active = True
            dst.append(Ev("activated", e.role, e.mid, sa=e.out_sa))

    # -- initiator
    def initiate(self, now, req):
        """req: dict(t=transform, local, remote). Returns (events, mid)."""
        c = self.c
        if len(self.open) >= MAX_HALF_OPEN:
            raise QMError("too many half-open exchanges")
        mid = self.new_mid()
        spi = self.new_spi()
        ni = self.nonce()
        e = Exch("initiator", "wait-qm2", mid)
        e.ni, e.req, e.spi_i, e.commit = ni, req, spi, self.prof[6]
        t = req["t"]
        items = [(P_SA, sa_payload_body(1, spi, 1, t, 0, mode_wire(t["mode"], c.natt))), (P_NONCE, ni),
                 (P_ID, id_body(req["local"])), (P_ID, id_body(req["remote"]))]
        if c.natt and t["mode"] == MODE_TRANSPORT:
            items += self.natoa("initiator")
        iv = c.phase2_iv(mid)
        flags = F_COMMIT if e.commit else 0
        msg, nxt = self.seal(mid, flags, iv, items, lambda rest: self.hash1(mid, rest))
        e.iv, e.sent, e.tries, e.interval = nxt, msg, 1, c.retx_initial
        e.timer = now + e.interval
        self.open.append(e)
        return [Ev("send", "initiator", mid, datagram=msg)], mid

    def check_reply(self, e, props):
        mid = e.mid
        if not props:
            raise QMError("SA without proposal", N_MALFORMED)
        p = props[0]
        if p["proto"] != PROTO_ESP or p["ntrans"] != 1 or p["num"] != 1:
            raise QMError("reply is not one offered ESP proposal", N_NO_PROPOSAL)
        if len(p["spi"]) != 4:
            raise QMError("invalid SPI", N_INVALID_SPI)
        spi = struct.unpack(">I", p["spi"])[0]
        if spi <= 255:
            raise QMError("invalid SPI %d" % spi, N_INVALID_SPI)
        o = read_transform(*p["transforms"][0])
        if len(props) > 1:
            raise QMError("reply has several proposals", N_NO_PROPOSAL)
        if o is None or o["group"] != 0 or o["udp"] != self.c.natt or (o["udp"] and o["draft"]):
            raise QMError("reply transform not offered", N_NO_PROPOSAL)
        t = e.req["t"]
        if (t["id"], t["keybits"], t["auth"], t["mode"]) != (o["id"], o["keybits"], o["auth"], o["mode"]):
            raise QMError("reply transform not offered", N_NO_PROPOSAL)
        o["sec"], o["kb"] = lower_life(t, o["sec"], o["kb"])
        o["spi"] = spi
        return o

    def initiator_qm2(self, now, e, h, b, ct):
        mid = e.mid
        if b == e.sent:
            raise QMError("own QM1 reflected")
        iv_after, m = self.open_body(h, ct, e.iv)
        if m["nonce"] is None or m["sa"] is None:
            raise QMError("QM2 needs SA and Nr", N_MALFORMED)
        if not hmac.compare_digest(self.hash2(mid, e.ni, m["rest"]), m["hash"]):
            raise QMError("HASH(2) does not verify", N_INVALID_HASH)
        o = self.check_reply(e, m["sa"])
        if m["life"] is not None:
            lt = parse_lifetime(m["life"])
            if lt is None:
                raise QMError("malformed RESPONDER-LIFETIME", N_MALFORMED)
            o["sec"], o["kb"] = lower_life(o, lt[0], lt[1])
        if m["ke"] is not None:
            raise QMError("KE presence does not match PFS", N_INVALID_KE)
        if len(m["ids"]) != 2:
            raise QMError("client IDs not returned", N_INVALID_ID)
        ci, cr = selector_of_id(m["ids"][0]), selector_of_id(m["ids"][1])
        if ci is None or cr is None or ci != e.req["local"] or cr != e.req["remote"]:
            raise QMError("client IDs differ from those sent", N_INVALID_ID)
        if len(m["oa"]) == 1:
            raise QMError("single NAT-OA", N_INVALID_PAYLOAD)
        nr = m["nonce"]
        commit = bool(h["flags"] & F_COMMIT)
        saved = (e.nr, e.commit)
        e.nr, e.commit = nr, commit
        try:
            self.keys(e, o, 0, e.req["local"], e.req["remote"])
            qm3, iv3 = self.seal(mid, h["flags"] & F_COMMIT, iv_after, [], lambda _r: self.hash3(mid, e.ni, nr))
        except Exception:
            e.nr, e.commit = saved
            raise
        e.recv, e.sent = b, qm3
        dst = []
        self.stage(dst, e, ST_QM2)
        dst.append(Ev("send", "initiator", mid, datagram=qm3))
        self.stage(dst, e, ST_AFTER_QM3)
        if e.commit:
            e.st, e.iv, e.tries, e.interval = "wait-connected", iv3, 1, self.c.retx_initial
            e.timer = now + e.interval
            return dst
        dst.append(Ev("completed", "initiator", mid))
        self.complete(e, Done(recv1=b, resend1=qm3))
        return dst

    def initiator_connected(self, e, h, b, ct):
        mid = e.mid
        if b == e.recv:
            return [Ev("send", "initiator", mid, datagram=e.sent)]
        if b == e.sent:
            raise QMError("own QM3 reflected")
        _iv, m = self.open_body(h, ct, e.iv)
        if not m["connected"] or m["others"] != 1:
            raise QMError("expected HASH, N(CONNECTED)", N_INVALID_PAYLOAD)
        if not hmac.compare_digest(self.info_hash(mid, m["rest"]), m["hash"]):
            raise QMError("HASH(4) does not verify", N_INVALID_HASH)
        dst = []
        self.stage(dst, e, ST_CONNECTED)
        dst.append(Ev("completed", "initiator", mid))
        self.complete(e, Done(recv1=e.recv, resend1=e.sent, recv2=b))
        return dst

    # -- responder
    def choose(self, props):
        c = self.c
        have, last, o = False, -1, None
        for p in props:
            if p["num"] == last:
                if have and o["propnum"] == p["num"]:
                    have = False
                continue
            if have:
                break
            last = p["num"]
            if p["proto"] != PROTO_ESP or len(p["spi"]) != 4:
                continue
            spi = struct.unpack(">I", p["spi"])[0]
            if spi <= 255:
                continue
            for tr in p["transforms"]:
                x = read_transform(*tr)
                if x is None or x["udp"] != c.natt or x["group"] != c.pfs:
                    continue
                t = c.transform
                if (t["id"], t["keybits"], t["auth"], t["mode"]) != (x["id"], x["keybits"], x["auth"], x["mode"]):
                    continue
                x["propnum"], x["spi"] = p["num"], spi
                o, have = x, True
                break
        if not have:
            raise QMError("no proposal chosen", N_NO_PROPOSAL)
        eff = lower_life(o, c.transform["sec"], c.transform["kb"])
        return o, eff

    def responder_qm1(self, now, h, b, ct):
        c = self.c
        mid = h["mid"]
        if len(self.open) >= MAX_HALF_OPEN:
            raise QMError("too many half-open exchanges")
        iv = c.phase2_iv(mid)
        iv_after1, m = self.open_body(h, ct, iv)
        if m["nonce"] is None or m["sa"] is None:
            raise QMError("QM1 needs SA and Ni", N_MALFORMED)
        if not hmac.compare_digest(self.hash1(mid, m["rest"]), m["hash"]):
            raise QMError("HASH(1) does not verify", N_INVALID_HASH)
        o, (eff_sec, eff_kb) = self.choose(m["sa"])
        prop_sec, prop_kb = lower_life(o, 0, 0)
        lowered = (eff_sec, eff_kb) != (prop_sec, prop_kb)
        if m["ke"] is not None:
            raise QMError("KE presence does not match the PFS group", N_INVALID_KE)
        local, remote = self.default_selectors()
        if len(m["ids"]) == 2:
            ci, cr = selector_of_id(m["ids"][0]), selector_of_id(m["ids"][1])
            if ci is None or cr is None:
                raise QMError("client ID is not an address or subnet", N_INVALID_ID)
            local, remote = cr, ci
        elif len(m["ids"]) != 0:
            raise QMError("single client ID", N_INVALID_ID)
        if len(m["oa"]) == 1:
            raise QMError("single NAT-OA", N_INVALID_PAYLOAD)
        commit = self.prof[6] or bool(h["flags"] & F_COMMIT)
        spi_r = self.new_spi()
        nr = self.nonce()
        e = Exch("responder", "wait-qm3", mid)
        e.spi_i, e.commit, e.ni, e.nr = o["spi"], commit, m["nonce"], nr
        eff = dict(o)
        eff["sec"], eff["kb"] = eff_sec, eff_kb
        self.keys(e, eff, spi_r, local, remote)
        items = [(P_SA, sa_payload_body(o["propnum"], spi_r, o["trnum"], o, o["group"], o["encap"])), (P_NONCE, nr)]
        if len(m["ids"]) == 2:
            items += [(P_ID, m["ids"][0]), (P_ID, m["ids"][1])]
        if o["udp"] and o["mode"] == MODE_TRANSPORT:
            items += self.natoa("responder")
        if lowered:
            items.append((P_N, struct.pack(">IBBH", DOI_IPSEC, PROTO_ESP, 4, N_RESPONDER_LIFETIME)
                          + struct.pack(">I", o["spi"]) + lifetime_data(eff_sec, eff_kb)))
        flags = F_COMMIT if commit else 0
        ni = e.ni
        qm2, iv_after2 = self.seal(mid, flags, iv_after1, items, lambda rest: self.hash2(mid, ni, rest))
        e.iv, e.recv, e.sent = iv_after2, b, qm2
        e.deadline = now + RESPONDER_TIMEOUT
        e.timer, e.tries = e.deadline, c.retx_tries
        if c.retx_responder:
            e.tries, e.interval = 1, c.retx_initial
            if now + e.interval < e.deadline:
                e.timer = now + e.interval
        self.open.append(e)
        dst = []
        self.stage(dst, e, ST_QM1)
        dst.append(Ev("send", "responder", mid, datagram=qm2))
        return dst

    def connected_msg(self, mid, spi, iv):
        n = struct.pack(">IBBH", DOI_IPSEC, PROTO_ESP, 4, N_CONNECTED) + struct.pack(">I", spi)
        msg, _ = self.seal(mid, F_COMMIT, iv, [(P_N, n)], lambda rest: self.info_hash(mid, rest))
        return msg

    def responder_qm3(self, e, h, b, ct):
        mid = e.mid
        if b == e.recv:
            return [Ev("send", "responder", mid, datagram=e.sent)]
        if b == e.sent:
            raise QMError("own QM2 reflected")
        iv3, m = self.open_body(h, ct, e.iv)
        if m["others"] != 0:
            raise QMError("QM3 carries only HASH(3)", N_INVALID_PAYLOAD)
        if not hmac.compare_digest(self.hash3(mid, e.ni, e.nr), m["hash"]):
            raise QMError("HASH(3) does not verify", N_INVALID_HASH)
        connected = self.connected_msg(mid, e.in_sa["spi"], iv3) if e.commit else None
        dst = []
        self.stage(dst, e, ST_QM3)
        if connected is not None:
            dst.append(Ev("send", "responder", mid, datagram=connected))
            self.stage(dst, e, ST_CONNECTED)
        dst.append(Ev("completed", "responder", mid))
        self.complete(e, Done(recv1=e.recv, resend1=e.sent, recv2=b, resend2=connected))
        return dst

    def late_qm3(self, d, h, ct):
        mid = d.mid
        iv3, m = self.open_body(h, ct, d.iv)
        if m["others"] != 0:
            raise QMError("QM3 carries only HASH(3)", N_INVALID_PAYLOAD)
        if not hmac.compare_digest(self.hash3(mid, d.ni, d.nr), m["hash"]):
            raise QMError("late HASH(3) does not verify", N_INVALID_HASH)
        if not d.commit:
            return []
        return [Ev("send", "responder", mid, datagram=self.connected_msg(mid, d.in_spi, iv3))]

    # -- entry points
    def handle_datagram(self, now, b, h, ct):
        c = self.c
        if len(b) > MAX_MESSAGE:
            raise QMError("message too large", N_MALFORMED)
        if h["cki"] != c.cki or h["ckr"] != c.ckr:
            raise QMError("cookies do not match the phase-1 SA", N_INVALID_COOKIE)
        if not h["flags"] & F_ENC or h["flags"] & F_AUTH:
            raise QMError("Quick Mode message not encrypted or flags invalid", N_INVALID_FLAGS)
        if h["mid"] == 0:
            raise QMError("message ID zero", N_INVALID_MID)
        e = self.find(h["mid"])
        if e is not None:
            if e.st == "wait-qm2":
                return self.initiator_qm2(now, e, h, b, ct)
            if e.st == "wait-connected":
                return self.initiator_connected(e, h, b, ct)
            return self.responder_qm3(e, h, b, ct)
        d = self.find_done(h["mid"])
        if d is not None:
            if b == d.recv1:
                return [Ev("send", d.role, d.mid, datagram=d.resend1)]
            if d.recv2 is not None and b == d.recv2 and d.resend2 is not None:
                return [Ev("send", d.role, d.mid, datagram=d.resend2)]
            if d.recv2 is not None and b == d.recv2:
                raise QMError("duplicate message")
            if d.late and b == d.resend1:
                raise QMError("own QM2 reflected")
            if d.late:
                return self.late_qm3(d, h, ct)
            raise QMError("exchange already completed")
        return self.responder_qm1(now, h, b, ct)

    def handle_timeout(self, now):
        dst = []
        i = 0
        c = self.c
        while i < len(self.open):
            e = self.open[i]
            if e.timer > now:
                i += 1
                continue
            retx = e.tries < c.retx_tries
            if e.role == "responder":
                retx = retx and now < e.deadline
            if retx:
                e.tries += 1
                e.interval *= c.retx_factor
                e.timer = now + e.interval
                if e.role == "responder" and (e.tries >= c.retx_tries or e.timer > e.deadline):
                    e.timer = e.deadline
                dst.append(Ev("send", e.role, e.mid, datagram=e.sent))
                i += 1
                continue
            reason = "retransmission limit reached" if e.role == "initiator" else "timed out waiting for QM3"
            self.fail(dst, e, reason)
        return dst

    def fail(self, dst, e, reason):
        if e.in_done:
            dst.append(Ev("deleted", e.role, e.mid, sa=e.in_sa))
        if e.out_done:
            dst.append(Ev("deleted", e.role, e.mid, sa=e.out_sa))
        self.open.remove(e)
        dst.append(Ev("failed", e.role, e.mid, reason="quickmode: " + reason))

    def handle_esp(self, spi):
        for e in self.open:
            if e.role != "responder" or not e.in_done or e.in_sa["spi"] != spi:
                continue
            if self.prof[2] != ST_FIRST_ESP or e.active:
                return []
            dst = []
            self.stage(dst, e, ST_FIRST_ESP)
            dst.append(Ev("completed", e.role, e.mid))
            self.complete(e, Done(recv1=e.recv, resend1=e.sent, late=True, iv=e.iv, ni=e.ni, nr=e.nr,
                                  commit=e.commit, in_spi=e.in_sa["spi"]))
            return dst
        return []


# ---------------------------------------------------------------------------
# Configuration

def b64(v, what):
    if v is None:
        return b""
    if not isinstance(v, str):
        raise ValueError("%s: not a base64 string" % what)
    return base64.b64decode(v, validate=True)


def dur(v, what):
    if v is None:
        return 0
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("%s: not an integer duration" % what)
    return v


def uint(v, what, lim=None):
    if v is None:
        return 0
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (lim is not None and v > lim):
        raise ValueError("%s: not an unsigned integer" % what)
    return v


class Conf:
    """Decoded and checked init config. ValueError: bad-request (wrong
    JSON types); ConfigError: bad-config."""

    def __init__(self, j, profile):
        if not isinstance(j, dict):
            raise ValueError("config is not an object")
        g = lambda o, k, t, d: self._get(o, k, t, d)
        self.side = g(j, "side", str, "")
        self.initiator = g(j, "initiator", bool, False)
        self.seed = uint(j.get("seed"), "seed", (1 << 64) - 1)
        self.start = dur(j.get("start"), "start")
        p1 = g(j, "phase1", dict, {})
        self.cki = b64(p1.get("cookie_i"), "cookie_i")
        self.ckr = b64(p1.get("cookie_r"), "cookie_r")
        prf = g(p1, "prf", str, "")
        self.skeyid_d = b64(p1.get("skeyid_d"), "skeyid_d")
        self.skeyid_a = b64(p1.get("skeyid_a"), "skeyid_a")
        self.skeyid_e = b64(p1.get("skeyid_e"), "skeyid_e")
        encr = g(p1, "encr", str, "")
        key = b64(p1.get("key"), "key")
        self.last = b64(p1.get("iv"), "iv")
        local = g(p1, "local", str, "")
        peer = g(p1, "peer", str, "")
        self.natt = g(p1, "natt", bool, False)
        flows = g(j, "flows", list, [])
        prop = g(j, "proposal", dict, {})
        life = g(j, "lifetime", dict, {})
        rt = g(j, "retransmit", dict, {})
        self.linger = dur(j.get("linger"), "linger")
        esp = g(prop, "esp", str, "")
        keybits = uint(prop.get("key_bits"), "key_bits", 0xFFFF)
        auth = g(prop, "auth", str, "")
        mode = g(prop, "mode", str, "")
        self.pfs = uint(prop.get("pfs"), "pfs", 0xFFFF)
        self.soft = dur(life.get("soft"), "soft")
        self.hard = dur(life.get("hard"), "hard")
        self.soft_kb = uint(life.get("soft_kilobytes"), "soft_kilobytes", 0xFFFFFFFF)
        self.hard_kb = uint(life.get("hard_kilobytes"), "hard_kilobytes", 0xFFFFFFFF)
        self.fuzz = dur(life.get("rekey_fuzz"), "rekey_fuzz")
        self.retx_initial = dur(rt.get("initial"), "initial")
        self.retx_factor = uint(rt.get("factor"), "factor", 1 << 62)
        self.retx_tries = uint(rt.get("max_tries"), "max_tries", 1 << 62)
        self.retx_responder = g(rt, "responder", bool, False)
        fl = []
        for i, f in enumerate(flows):
            if not isinstance(f, dict):
                raise ValueError("flow %d is not an object" % i)
            fl.append((g(f, "local", str, ""), g(f, "remote", str, ""), uint(f.get("protocol"), "protocol", 255),
                       uint(f.get("port"), "port", 0xFFFF)))
        # -- bad-config checks (gateway.FromAdapter and New)
        if self.side not in ("A", "B"):
            raise ConfigError("side %r is neither A nor B" % self.side)
        if len(self.cki) != 8 or len(self.ckr) != 8:
            raise ConfigError("cookies must be 8 bytes")
        if prf not in PRFS:
            raise ConfigError("unknown prf %r" % prf)
        self.prf = PRF(prf)
        self.cipher = IKECipher(encr, key)
        if len(self.last) != self.cipher.bs:
            raise ConfigError("phase-1 last CBC block of %d bytes" % len(self.last))
        if not self.skeyid_d or not self.skeyid_a:
            raise ConfigError("phase 1: SKEYID_d/SKEYID_a missing")
        try:
            self.local_addr = ipaddress.ip_address(local)
            self.peer_addr = ipaddress.ip_address(peer)
        except ValueError:
            raise ConfigError("phase-1 addresses %r, %r" % (local, peer))
        if esp not in ESP_IDS or auth not in AUTH_IDS:
            raise ConfigError("ESP %r with %r is not supported" % (esp, auth))
        if mode not in ("tunnel", "transport"):
            raise ConfigError("mode %r" % mode)
        if esp == "aes-gcm-16" and AESGCM is None:
            raise ConfigError("aes-gcm-16 needs cryptography's AESGCM")
        if keymat_lens(ESP_IDS[esp], keybits, AUTH_IDS[auth]) is None:
            raise ConfigError("ESP transform %s/%d/%s not supported" % (esp, keybits, auth))
        if self.pfs != 0:
            raise ConfigError("PFS (Quick Mode DH group %d) is not supported by this shim" % self.pfs)
        if self.seed >= 1 << 53:
            raise ConfigError("seed %d is not below 2^53" % self.seed)
        if not fl:
            raise ConfigError("no flows")
        self.flows = []
        for i, (l, r, pr, po) in enumerate(fl):
            try:
                self.flows.append((selector_of_prefix(l, pr, po), selector_of_prefix(r, pr, po)))
            except (ConfigError, ValueError):
                raise ConfigError("flow %d: selectors %r, %r are not prefixes" % (i, l, r))
        if min(self.soft, self.hard, self.fuzz, self.linger, self.retx_initial) < 0:
            raise ConfigError("negative limit")
        if self.retx_factor == 0:
            self.retx_factor = 2
        if self.retx_tries == 0:
            self.retx_tries = 5
        if self.retx_initial == 0:
            self.retx_initial = 500 * MS
        hard_sec = (self.hard + SECOND - 1) // SECOND
        if hard_sec > 0xFFFFFFFF:
            raise ConfigError("hard lifetime too long")
        self.transform = dict(id=ESP_IDS[esp], keybits=keybits, auth=AUTH_IDS[auth],
                              mode=MODE_TUNNEL if mode == "tunnel" else MODE_TRANSPORT,
                              sec=hard_sec, kb=self.hard_kb)
        self.profile = profile

    @staticmethod
    def _get(o, k, t, d):
        v = o.get(k)
        if v is None:
            return d
        if not isinstance(v, t) or (t is not bool and isinstance(v, bool)):
            raise ValueError("%s: wrong type" % k)
        return v

    def phase2_iv(self, mid):
        return self.prf.digest(self.last, mid_bytes(mid))[:self.cipher.bs]


# ---------------------------------------------------------------------------
# The gateway (ref/gateway)

class XInfo:
    def __init__(self, mid, flow, role, start):
        self.mid, self.flow, self.role, self.start = mid, flow, role, start
        self.end = 0
        self.done = self.failed = self.resolved = self.loser = self.install_failed = False
        self.partner = 0
        self.soft = [0, 0]
        self.hard = [0, 0]
        self.life_set = False

    def is_open(self):
        return not self.done and not self.failed


class Owed:
    def __init__(self, inb, out, answer, send_at, interval=0):
        self.inb, self.out, self.answer, self.send_at = inb, out, answer, send_at
        self.sent = False
        self.last = 0
        self.next = 0
        self.interval = interval
        self.tries = 0


class Gateway:
    def __init__(self, cfg):
        self.c = cfg
        self.rnd = random.Random(cfg.seed * 2 + (1 if cfg.side == "B" else 0))
        self.x = Exchanges(cfg, PROFILES[cfg.profile], self.rnd)
        self.db = DB(len(cfg.flows))
        self.now = cfg.start
        self.seq = 0
        self.queues = [[] for _ in cfg.flows]
        self.xs = []
        self.timers = []  # (at, mid, flow)
        self.info_ids = []
        self.owed = []
        self.deactivated = {}
        self.out = []

    # -- outputs
    def emit(self, **kw):
        o = {}
        for k, v in kw.items():
            if v is None or v == 0 or v == "" or v == b"":
                continue
            if isinstance(v, (bytes, bytearray)):
                v = base64.b64encode(v).decode()
            o[k] = v
        self.out.append(o)

    def reject(self, mid, reason, notify=0):
        self.emit(kind="reject", message_id=mid, reason=reason, notify=NOTIFY_NAMES.get(notify, "") if notify else "")

    def drop(self, direction, flow, spi, reason, pkt=None):
        self.emit(kind="drop", direction=DIRS[direction], flow=flow, spi=spi, reason=reason, packet=pkt)

    def sa_event(self, ev, sa):
        self.emit(kind="sa", event=ev, sa=sa.json(), spi=sa.spi, flow=sa.flow, direction=DIRS[sa.direction])

    def exchange_event(self, ev, x, reason=""):
        self.emit(kind="exchange", exchange_event=ev, message_id=x.mid, role=x.role,
                  flow=max(x.flow, 0), reason=reason)

    def transmit_ike(self, msg):
        if self.c.natt:
            self.emit(kind="transmit", datagram={"transport": "udp4500", "bytes": base64.b64encode(b"\0\0\0\0" + msg).decode()})
        else:
            self.emit(kind="transmit", datagram={"transport": "udp500", "bytes": base64.b64encode(msg).decode()})

    def order(self):
        self.seq += 1
        return self.seq

    # -- exchange bookkeeping
    def open_for(self, flow):
        for x in self.xs:
            if x.flow == flow and x.is_open():
                return x
        return None

    def info(self, mid):
        for x in self.xs:
            if x.mid == mid:
                return x
        return None

    def remember(self, x):
        self.xs.append(x)
        while len(self.xs) > MAX_REMEMBERED:
            for i, o in enumerate(self.xs):
                if not o.is_open():
                    del self.xs[i]
                    break
            else:
                return

    def initiate(self, flow):
        if self.open_for(flow) is not None:
            return
        if self.db.flow_len(flow) + 2 > MAX_SAS_PER_FLOW:
            self.emit(kind="exchange", exchange_event="failed", flow=flow, role="initiator",
                      reason="flow holds the maximum number of SAs")
            return
        lsel, rsel = self.c.flows[flow]
        try:
            evs, mid = self.x.initiate(self.now, dict(t=self.c.transform, local=lsel, remote=rsel))
        except QMError as err:
            x = XInfo(0, flow, "initiator", self.order())
            x.failed = True
            self.exchange_event("failed", x, "quickmode: " + str(err))
            self.negotiation_failed(flow)
            return
        x = XInfo(mid, flow, "initiator", self.order())
        self.remember(x)
        self.exchange_event("started", x)
        self.apply(evs)

    def flow_of(self, q):
        for i, (l, r) in enumerate(self.c.flows):
            if l == q["local"] and r == q["remote"]:
                return i
        return -1

    def apply(self, evs):
        for ev in evs:
            x = self.info(ev.mid)
            if x is None:
                x = XInfo(ev.mid, -2, ev.role, self.order())
                self.remember(x)
                self.exchange_event("started", x)
            if x.flow == -2 and ev.sa is not None:
                x.flow = self.flow_of(ev.sa)
                if x.flow < 0:
                    self.reject(x.mid, "client IDs match no configured flow", N_INVALID_ID)
            k = ev.kind
            if k == "send":
                if not x.install_failed:
                    self.transmit_ike(ev.datagram)
            elif k in ("installed-in", "installed-out"):
                if x.flow >= 0 and not x.install_failed:
                    self.install(x, ev.sa)
            elif k == "activated":
                if x.flow >= 0 and not x.loser and not x.install_failed:
                    self.activate(ev.sa["spi"])
            elif k == "deleted":
                self.delete_sa(ev.sa["direction"], ev.sa["spi"])
            elif k == "completed":
                x.done, x.end = True, self.order()
                self.exchange_event("completed", x)
                if x.flow >= 0 and not x.install_failed:
                    self.db.mark_proven(x.mid)
                    self.completed(x)
            elif k == "failed":
                x.failed, x.end = True, self.order()
                self.exchange_event("failed", x, ev.reason)
                if x.flow >= 0:
                    self.negotiation_failed(x.flow)
                    a = self.db.active(x.flow)
                    if a is not None and a.soft_fired and x.role == "initiator":
                        self.initiate(x.flow)

    def negotiation_failed(self, flow):
        if self.db.established(flow) or self.open_for(flow) is not None:
            return
        for p in self.queues[flow]:
            self.drop(OUTBOUND, flow, 0, "negotiation", p)
        self.queues[flow] = []

    def lifetimes(self, x, t):
        if x.life_set:
            return
        c = self.c
        hard = t["sec"] * SECOND
        soft = c.soft
        if soft != 0 and soft >= hard:
            soft = hard - hard // 10
        if soft != 0:
            s = soft
            fuzz = c.fuzz
            if fuzz > 0 and soft > 0:
                fuzz = min(fuzz, soft // 2)
                if fuzz > 0:
                    s = soft - struct.unpack(">Q", self.rnd.randbytes(8))[0] % fuzz
            x.soft[0] = self.now + s
        if hard != 0:
            x.hard[0] = self.now + hard
        if t["kb"]:
            x.hard[1] = t["kb"] * 1024
            k = c.soft_kb * 1024
            if k and k < x.hard[1]:
                x.soft[1] = k
        elif c.soft_kb:
            x.soft[1] = c.soft_kb * 1024
        x.life_set = True

    def install(self, x, q):
        t = q["t"]
        self.lifetimes(x, t)
        name = transform_name(t["id"], t["keybits"], t["auth"])
        esp = ESPSA(q["spi"], t["id"], t["keybits"], t["auth"], q["enc"], q["salt"], q["integ"], self.rnd)
        sa = DBSA(q["spi"], q["direction"], x.flow, x.mid, esp, name, "", self.now, list(x.soft), list(x.hard))
        sa.key_id = hashlib.sha256(name.encode() + b"\0" + q["enc"] + q["salt"] + q["integ"]).hexdigest()[:16]
        err = self.db.install(sa)
        if err is None:
            self.sa_event("installed", sa)
            return
        x.install_failed = True
        self.reject(x.mid, "installing SA: sadb: " + err)
        for d in (INBOUND, OUTBOUND):
            s = self.db.by_mid(x.mid, d)
            if s is not None:
                self.delete_sa(d, s.spi)

    def activate(self, spi):
        ok, prev = self.db.activate(spi)
        if not ok:
            return
        if prev is not None:
            self.deactivated[prev.spi] = self.now
            self.sa_event("deactivated", prev)
        sa = self.db.outb[spi]
        if prev is None and not sa.active:
            return
        self.sa_event("activated", sa)
        if self.queues[sa.flow]:
            self.flush(sa.flow)

    def delete_sa(self, d, spi):
        gone, nxt = self.db.delete(d, spi)
        if gone is None:
            return
        if d == INBOUND:
            self.forget_inbound(spi)
        else:
            self.deactivated.pop(spi, None)
        self.sa_event("deleted", gone)
        if nxt is not None:
            self.sa_event("activated", nxt)

    def delete_pair(self, sa):
        p = self.db.pair(sa)
        self.delete_sa(sa.direction, sa.spi)
        if p is not None:
            self.delete_sa(p.direction, p.spi)

    def completed(self, x):
        p = self.partner(x)
        if p is not None:
            self.resolve(x, p)
        if x.loser or x.role != "initiator":
            return
        old = self.old_pairs(x)
        if not old:
            return
        if self.c.linger > 0:
            self.timers.append((self.now + self.c.linger, x.mid, x.flow))

    def partner(self, x):
        for o in self.xs:
            if o is x or o.flow != x.flow or o.role == x.role or not o.done or o.resolved:
                continue
            if o.start < x.end and x.start < o.end:
                return o
        return None

    def resolve(self, a, b):
        win, lose = (b, a) if b.mid < a.mid else (a, b)
        a.resolved = b.resolved = lose.loser = True
        a.partner, b.partner = b.mid, a.mid
        w = self.db.by_mid(win.mid, OUTBOUND)
        if w is not None and w.proven and not w.active:
            self.activate(w.spi)
        if lose.role != "initiator":
            return
        inb = self.db.by_mid(lose.mid, INBOUND)
        if inb is not None:
            self.retire(inb)
        else:
            out = self.db.by_mid(lose.mid, OUTBOUND)
            if out is not None:
                self.delete_sa(OUTBOUND, out.spi)

    def old_pairs(self, x):
        spis = []
        for sa in self.db.all:
            if sa.flow != x.flow or sa.direction != INBOUND or sa.mid == x.mid or self.retiring(sa.spi):
                continue
            if x.resolved and sa.mid == x.partner:
                continue
            o = self.info(sa.mid)
            if o is not None and (o.is_open() or o.start >= x.start):
                continue
            out = self.db.pair(sa)
            if out is not None and out.active:
                continue
            spis.append(sa.spi)
        return spis

    # -- retiring (retire.go)
    def request(self, spi):
        for i, o in enumerate(self.owed):
            if not o.answer and o.inb == spi:
                return i
        return -1

    def retiring(self, spi):
        return self.request(spi) >= 0

    def quiet_since(self, sa):
        if sa.active:
            return self.now
        return self.deactivated.get(sa.spi, 0)

    def drop_outbound(self, inb):
        send_at, out = self.now, 0
        o = self.db.pair(inb)
        if o is not None:
            out, send_at = o.spi, max(self.now, self.quiet_since(o) + DELETE_GRACE)
            self.delete_sa(OUTBOUND, o.spi)
        return out, send_at

    def retire(self, inb):
        if self.retiring(inb.spi):
            return
        out, at = self.drop_outbound(inb)
        self.owed.append(Owed(inb.spi, out, False, at, DELETE_RETX_INITIAL))
        self.send_owed()

    def peer_deleted(self, spis):
        for spi in spis:
            i = next((i for i, o in enumerate(self.owed) if not o.answer and o.out == spi and o.out != 0), -1)
            if i >= 0:
                inb = self.owed[i].inb
                if self.owed[i].sent:
                    del self.owed[i]
                self.delete_sa(INBOUND, inb)
                continue
            out = self.db.outb.get(spi)
            if out is not None:
                at = max(self.now, self.quiet_since(out) + DELETE_GRACE)
                inb = self.db.pair(out)
                self.delete_sa(OUTBOUND, spi)
                if inb is None:
                    continue
                self.delete_sa(INBOUND, inb.spi)
                if sum(1 for o in self.owed if o.answer) >= MAX_ANSWERS:
                    j = next((j for j, o in enumerate(self.owed) if o.answer and o.sent), -1)
                    if j < 0:
                        continue
                    del self.owed[j]
                self.owed.append(Owed(inb.spi, spi, True, at))
                continue
            for a in self.owed:
                if a.answer and a.out == spi:
                    if a.sent and self.now - a.last >= DELETE_RETX_INITIAL:
                        a.sent = False
                    break
        self.send_owed()

    def esp_on_retiring(self, spi):
        i = self.request(spi)
        if i < 0 or not self.owed[i].sent or self.now - self.owed[i].last < DELETE_RETX_INITIAL:
            return
        self.owed[i].last = self.now
        self.send_delete([spi])

    def send_owed(self):
        i = 0
        while i < len(self.owed):
            o = self.owed[i]
            if not o.sent and o.send_at <= self.now:
                o.sent, o.last, o.tries, o.next = True, self.now, 1, self.now + o.interval
                self.send_delete([o.inb])
                if not o.answer and self.db.inb.get(o.inb) is None:
                    del self.owed[i]
                    continue
            elif o.sent and not o.answer and o.tries < DELETE_RETX_TRIES and o.next <= self.now:
                o.tries += 1
                o.interval *= DELETE_RETX_FACTOR
                o.next, o.last = self.now + o.interval, self.now
                self.send_delete([o.inb])
            i += 1

    def next_owed(self):
        ts = []
        for o in self.owed:
            if not o.sent:
                ts.append(o.send_at)
            elif not o.answer and o.tries < DELETE_RETX_TRIES:
                ts.append(o.next)
        return min(ts) if ts else None

    def forget_inbound(self, spi):
        self.owed = [o for o in self.owed if not (not o.answer and o.inb == spi and o.sent)]

    # -- Informational (info.go)
    def send_delete(self, spis):
        if not spis:
            return
        d = struct.pack(">IBBH", DOI_IPSEC, PROTO_ESP, 4, len(spis)) + b"".join(struct.pack(">I", s) for s in spis)
        self.send_info(P_D, d)

    def send_info(self, ptype, body):
        c = self.c
        mid = struct.unpack(">I", self.rnd.randbytes(4))[0] | 1
        pl = payload(P_NONE, body)
        h = c.prf.mac(c.skeyid_a, mid_bytes(mid), pl)
        plain = payload(ptype, h) + pl
        ct, _ = c.cipher.encrypt(c.phase2_iv(mid), plain)
        msg = header(c.cki, c.ckr, P_HASH, EX_INFO, F_ENC, mid, 28 + len(ct)) + ct
        self.transmit_ike(msg)

    def receive_info(self, h, ct, b):
        c = self.c
        mid = h["mid"]
        if len(b) > MAX_INFO_SIZE:
            return self.reject(mid, "Informational too large", N_MALFORMED)
        if h["cki"] != c.cki or h["ckr"] != c.ckr:
            return self.reject(mid, "Informational: cookies of another ISAKMP SA", N_INVALID_COOKIE)
        if not h["flags"] & F_ENC:
            return self.reject(mid, "Informational not encrypted", N_INVALID_FLAGS)
        if mid == 0:
            return self.reject(mid, "Informational with message ID 0", N_INVALID_MID)
        if mid in self.info_ids:
            return self.reject(mid, "Informational replayed")
        try:
            plain, _ = c.cipher.decrypt(c.phase2_iv(mid), ct)
            items, _end = walk(h["np"], plain)
        except QMError as err:
            return self.reject(mid, "Informational: " + str(err), N_MALFORMED)
        if not items or items[0][0] != P_HASH:
            return self.reject(mid, "Informational: HASH must come first", N_MALFORMED)
        hsh = items[0][1]
        rest_start = rest_end = items[0][3]
        spis = []
        for t, body, _s, e in items[1:]:
            if t == P_D:
                if len(body) < 8:
                    return self.reject(mid, "Informational: malformed Delete", N_MALFORMED)
                _doi, proto, spisz, n = struct.unpack(">IBBH", body[:8])
                if len(body) != 8 + spisz * n:
                    return self.reject(mid, "Informational: malformed Delete", N_MALFORMED)
                if proto != PROTO_ESP or spisz != 4:
                    return self.reject(mid, "Informational: Delete for a protocol other than ESP", N_INVALID_PROTOCOL)
                spis += [struct.unpack(">I", body[8 + 4 * k:12 + 4 * k])[0] for k in range(n)]
            elif t == P_N:
                if len(body) < 8 or len(body) < 8 + body[5]:
                    return self.reject(mid, "Informational: malformed Notification", N_MALFORMED)
            else:
                return self.reject(mid, "Informational: only Delete and Notification may follow HASH",
                                   N_INVALID_PAYLOAD)
            rest_end = e
        if len(items) == 1:
            return self.reject(mid, "Informational without Delete or Notification", N_MALFORMED)
        want = c.prf.mac(c.skeyid_a, mid_bytes(mid), plain[rest_start:rest_end])
        if not hmac.compare_digest(want, hsh):
            return self.reject(mid, "Informational: HASH(1) does not verify", N_INVALID_HASH)
        if len(self.info_ids) == MAX_INFO_IDS:
            self.info_ids.pop(0)
        self.info_ids.append(mid)
        self.peer_deleted(spis)

    # -- data plane (dataplane.go)
    def send(self, flow, pkt):
        sa = self.db.active(flow)
        if sa is None:
            if self.db.established(flow):
                return self.drop(OUTBOUND, flow, 0, "no-active-sa", pkt)
            return self.acquire(flow, pkt)
        self.seal(sa, pkt)

    def acquire(self, flow, pkt):
        if len(self.queues[flow]) >= MAX_QUEUE:
            return self.drop(OUTBOUND, flow, 0, "acquire-queue", pkt)
        self.queues[flow].append(pkt)
        self.emit(kind="queue", direction="outbound", flow=flow, packet=pkt)
        if self.c.initiator and self.open_for(flow) is None:
            self.initiate(flow)

    def seal(self, sa, pkt):
        try:
            out = sa.esp.seal(pkt)
        except ESPDrop as d:
            return self.drop(OUTBOUND, sa.flow, sa.spi, d.reason, pkt)
        tr = "udp4500" if self.c.natt else "esp"
        self.emit(kind="transmit", flow=sa.flow, spi=sa.spi, direction="outbound",
                  datagram={"transport": tr, "bytes": base64.b64encode(out).decode()})
        if sa.soft[1] or sa.hard[1] or (not sa.soft_fired and sa.seq_soft_due()):
            self.expire()

    def receive_esp(self, b):
        if len(b) < 8 or struct.unpack(">I", b[:4])[0] == 0:
            return self.drop(INBOUND, 0, 0, "malformed")
        spi = struct.unpack(">I", b[:4])[0]
        sa = self.db.inb.get(spi)
        if sa is None:
            return self.drop(INBOUND, 0, spi, "unknown-spi")
        try:
            data = sa.esp.open(b)
        except ESPDrop as d:
            return self.drop(INBOUND, sa.flow, spi, d.reason)
        self.emit(kind="deliver", flow=sa.flow, spi=spi, direction="inbound", packet=data)
        self.esp_on_retiring(spi)
        if self.db.mark_seen(sa):
            self.apply(self.x.handle_esp(spi))
        if sa.soft[1] or sa.hard[1]:
            self.expire()

    def flush(self, flow):
        q, self.queues[flow] = self.queues[flow], []
        sa = self.db.active(flow)
        for p in q:
            if sa is None:
                self.drop(OUTBOUND, flow, 0, "no-active-sa", p)
                continue
            self.seal(sa, p)

    # -- receive
    def receive(self, transport, b):
        if transport == UDP500:
            self.receive_ike(b)
        elif transport == UDP4500:
            if len(b) == 1 and b[0] == 0xFF:
                return
            if len(b) < 4:
                return self.drop(INBOUND, 0, 0, "malformed")
            if b[:4] == b"\0\0\0\0":
                return self.receive_ike(b[4:])
            if len(b) < 8:
                return self.drop(INBOUND, 0, 0, "malformed")
            self.receive_esp(b)
        elif transport == ESP:
            self.receive_esp(b)
        else:
            self.drop(INBOUND, 0, 0, "malformed")

    def receive_ike(self, b):
        try:
            h, ct = parse_header(b)
        except QMError as err:
            return self.reject(0, str(err), err.notify)
        if h["exch"] == EX_QM:
            try:
                evs = self.x.handle_datagram(self.now, b, h, ct)
            except QMError as err:
                return self.reject(h["mid"], "quickmode: " + str(err), err.notify)
            self.apply(evs)
        elif h["exch"] == EX_INFO:
            self.receive_info(h, ct, b)
        else:
            self.reject(h["mid"], "unexpected exchange %d" % h["exch"], N_INVALID_EXCHANGE)

    # -- timers
    def tick(self):
        self.apply(self.x.handle_timeout(self.now))
        i = 0
        while i < len(self.timers):
            at, mid, flow = self.timers[i]
            if at > self.now:
                i += 1
                continue
            del self.timers[i]
            x = self.info(mid)
            if x is not None and not x.loser and self.db.by_mid(x.mid, INBOUND) is not None:
                for spi in self.old_pairs(x):
                    sa = self.db.inb.get(spi)
                    if sa is not None:
                        self.retire(sa)
        self.send_owed()
        self.expire()

    def expire(self):
        for kind, sa in self.db.due(self.now):
            if self.db.inb.get(sa.spi) is not sa and self.db.outb.get(sa.spi) is not sa:
                continue
            if kind == "soft":
                self.sa_event("soft-expired", sa)
                out = sa if sa.direction == OUTBOUND else self.db.pair(sa)
                if out is not None and out.active:
                    self.initiate(sa.flow)
            else:
                if sa.direction == INBOUND:
                    self.send_delete([sa.spi])
                self.delete_sa(sa.direction, sa.spi)

    def operator_delete(self, spi):
        sa = self.db.inb.get(spi)
        if sa is None:
            return self.reject(0, "operator delete: no inbound SA with this SPI", N_INVALID_SPI)
        x = self.info(sa.mid)
        if x is not None and x.is_open():
            x.install_failed = True
        self.send_delete([spi])
        self.delete_pair(sa)

    # -- peer interface
    def step(self, inp):
        self.out = []
        if inp["at"] > self.now:
            self.now = inp["at"]
        k = inp["kind"]
        if k == "receive":
            self.receive(inp["transport"], inp["bytes"])
        elif k == "send":
            self.send(inp["flow"], inp["packet"])
        elif k == "tick":
            self.tick()
        elif k == "rekey":
            if 0 <= inp["flow"] < len(self.c.flows):
                self.initiate(inp["flow"])
        elif k == "delete":
            self.operator_delete(inp["spi"])
        return self.out

    def next_timer(self):
        ts = [t for t in (self.x.next_timeout(), self.db.next_deadline(), self.next_owed()) if t is not None]
        ts += [t[0] for t in self.timers]
        return min(ts) if ts else None

    def state(self):
        sas = sorted(self.db.all, key=lambda s: (s.spi, s.direction))
        flows, queued = [], 0
        for i in range(len(self.c.flows)):
            a = self.db.active(i)
            flows.append({"flow": i, "established": self.db.established(i), "active": a.spi if a else 0,
                          "queued": len(self.queues[i])})
            queued += len(self.queues[i])
        return {"at": self.now, "sas": [s.json() for s in sas], "flows": flows,
                "half_open": self.x.half_open(), "queued": queued}


# ---------------------------------------------------------------------------
# Protocol server (mirrors ref/peer/adapter/serve.go)

MAX_LINE = 1 << 20


def err_reply(rid, code, msg):
    return {"type": "error", "id": rid, "code": code, "message": msg}


class Server:
    def __init__(self, profile):
        self.profile = profile
        self.gw = None
        self.nflows = 0
        self.last = 0

    def handle(self, line):
        self.cur_id = 0
        try:
            env = json.loads(line)
        except (ValueError, UnicodeDecodeError) as e:
            return err_reply(0, "bad-request", "not a request object: %s" % e)
        if env is None:
            env = {}
        if not isinstance(env, dict):
            return err_reply(0, "bad-request", "not a request object")
        typ, rid, ver = env.get("type"), env.get("id"), env.get("version")
        if typ is None:
            typ = ""
        if rid is None:
            rid = 0
        if ver is None:
            ver = 0
        if (not isinstance(typ, str) or not isinstance(rid, int) or isinstance(rid, bool) or rid < 0
                or rid >= 1 << 64 or not isinstance(ver, int) or isinstance(ver, bool)):
            return err_reply(0, "bad-request", "not a request object: field of the wrong type")
        self.cur_id = rid
        if typ == "init":
            return self.init(rid, ver, env.get("config"))
        if typ not in ("step", "next_timer", "state"):
            return err_reply(rid, "unknown-type", "unknown request type %s" % json.dumps(typ))
        if self.gw is None:
            return err_reply(rid, "no-session", typ + " before init")
        if typ == "next_timer":
            return self.with_at({"type": "next_timer", "id": rid})
        if typ == "state":
            return {"type": "state", "id": rid, "state": self.gw.state()}
        inp = env.get("input")
        if inp is None:
            return err_reply(rid, "bad-request", "step without input")
        try:
            i = self.parse_input(inp)
        except (ValueError, TypeError, KeyError) as e:
            return err_reply(rid, "bad-request", "input: %s" % e)
        if i["at"] < self.last:
            return err_reply(rid, "time-backwards", "input at %d before the previous one at %d" % (i["at"], self.last))
        k = i["kind"]
        if k == "receive":
            if i["transport"] < UDP500 or i["transport"] > ESP:
                return err_reply(rid, "bad-request", "receive without a datagram transport")
        elif k in ("send", "rekey"):
            if i["flow"] < 0 or i["flow"] >= self.nflows:
                return err_reply(rid, "bad-request", "flow %d of %d" % (i["flow"], self.nflows))
        elif k not in ("tick", "delete"):
            return err_reply(rid, "bad-request", "input without a kind")
        self.last = i["at"]
        outs = self.gw.step(i)
        rep = {"type": "step", "id": rid}
        if outs:
            rep["outputs"] = outs
        return self.with_at(rep)

    def with_at(self, rep):
        at = self.gw.next_timer()
        if at is not None:
            rep["at"] = at
        return rep

    @staticmethod
    def parse_input(j):
        if not isinstance(j, dict):
            raise ValueError("not an object")
        kind = j.get("kind")
        if kind is None:
            kind = ""
        if not isinstance(kind, str) or kind not in INPUT_KINDS:
            raise ValueError("peer: unknown input kind %s" % json.dumps(kind))
        at = j.get("at", 0)
        if at is None:
            at = 0
        if not isinstance(at, int) or isinstance(at, bool):
            raise ValueError("at: not an integer")
        d = j.get("datagram") or {}
        if not isinstance(d, dict):
            raise ValueError("datagram: not an object")
        tr = d.get("transport")
        if tr is None:
            tr = ""
        if not isinstance(tr, str) or tr not in TRANSPORTS:
            raise ValueError("peer: unknown transport %s" % json.dumps(tr))
        flow = j.get("flow", 0)
        if flow is None:
            flow = 0
        if not isinstance(flow, int) or isinstance(flow, bool):
            raise ValueError("flow: not an integer")
        return {"kind": kind, "at": at, "transport": TRANSPORTS.index(tr), "bytes": b64(d.get("bytes"), "bytes"),
                "flow": flow, "packet": b64(j.get("packet"), "packet"), "spi": uint(j.get("spi"), "spi", 0xFFFFFFFF)}

    def init(self, rid, ver, cfg):
        if ver != VERSION:
            return err_reply(rid, "version", "protocol version %d, this shim speaks %d" % (ver, VERSION))
        if cfg is None:
            return err_reply(rid, "bad-request", "init without config")
        try:
            c = Conf(cfg, self.profile)
        except ConfigError as e:
            return err_reply(rid, "bad-config", str(e))
        except (ValueError, TypeError) as e:
            return err_reply(rid, "bad-request", "config: %s" % e)
        self.gw = Gateway(c)
        self.nflows, self.last = len(c.flows), c.start
        return {"type": "init", "id": rid, "version": VERSION, "implementation": "python-shim",
                "limits": {"max_sas_per_flow": MAX_SAS_PER_FLOW, "max_half_open": MAX_HALF_OPEN,
                           "max_queued": MAX_QUEUE * len(c.flows)}}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profile", default="hitless", choices=sorted(PROFILES),
                    help="install/activation timing (default hitless)")
    args = ap.parse_args()
    srv = Server(args.profile)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = inp.readline(MAX_LINE + 2)
        if not line:
            return 0
        too_long = False
        if len(line) > MAX_LINE + 1 or (len(line) == MAX_LINE + 2 and not line.endswith(b"\n")):
            too_long = True
            while not line.endswith(b"\n"):
                line = inp.readline(1 << 16)
                if not line:
                    break
        if too_long:
            rep = err_reply(0, "bad-request", "request line over %d bytes" % MAX_LINE)
        else:
            if line.endswith(b"\n"):
                line = line[:-1]
            try:
                rep = srv.handle(line)
            except Exception as e:  # never die on one request
                import traceback
                traceback.print_exc(file=sys.stderr)
                rep = err_reply(getattr(srv, "cur_id", 0), "internal", "%s: %s" % (type(e).__name__, e))
        out.write(json.dumps(rep, separators=(",", ":")).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    sys.exit(main())
