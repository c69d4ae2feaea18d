package ikecrypto

import "testing"

func BenchmarkPRF(b *testing.B) {
	key, data := seq(20, 1), seq(400, 2)
	for _, p := range allPRFs {
		b.Run(p.String()+"/Compute", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				p.Compute(nil, key, data)
			}
		})
		b.Run(p.String()+"/MAC-reused", func(b *testing.B) {
			m, _ := p.New(key)
			out := make([]byte, 0, 64)
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				out = m.Sum(out[:0], data)
			}
		})
	}
}

func BenchmarkKEYMAT(b *testing.B) {
	kd, gqm, spi, ni, nr := seq(20, 3), seq(256, 4), []byte{1, 2, 3, 4}, seq(32, 5), seq(32, 6)
	for _, tc := range []struct {
		name string
		g    []byte
		n    int
	}{{"AES128-SHA1/noPFS", nil, 36}, {"AES128-SHA1/PFS2048", gqm, 36}, {"AES256-SHA512/PFS2048", gqm, 96}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				KEYMAT(PRFSHA1, kd, tc.g, ProtoESP, spi, ni, nr, tc.n)
			}
		})
	}
}

func BenchmarkBody(b *testing.B) {
	for _, tc := range []struct {
		name string
		alg  Encr
		key  int
	}{{"AES128", EncrAESCBC, 16}, {"AES256", EncrAESCBC, 32}, {"3DES", Encr3DESCBC, 24}} {
		c, _ := NewCipher(tc.alg, seq(tc.key, 1))
		iv, _ := NewIV(seq(c.BlockSize(), 2))
		pt := seq(412, 3) // a QM1 body with PFS modp2048
		ct, _, _ := c.Encrypt(nil, iv, pt)
		buf := make([]byte, 0, len(ct))
		b.Run(tc.name+"/Encrypt", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(pt)))
			for b.Loop() {
				buf, _, _ = c.Encrypt(buf[:0], iv, pt)
			}
		})
		b.Run(tc.name+"/Decrypt", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(ct)))
			for b.Loop() {
				buf, _, _ = c.Decrypt(buf[:0], iv, ct)
			}
		})
	}
}

func BenchmarkHash2(b *testing.B) {
	ka, ni, rest := seq(20, 1), seq(32, 2), seq(400, 3)
	b.ReportAllocs()
	for b.Loop() {
		Hash2(PRFSHA1, ka, 0x11223344, ni, rest)
	}
}
