package filestore

import (
	"strconv"
	"testing"
)

// FuzzParse: any file content parses or is refused, never panics; a
// parsed header round-trips.
func FuzzParse(f *testing.F) {
	f.Add([]byte("gopaste-session 1 1700000000000000000\n{\"format\":1}"))
	f.Add([]byte("gopaste-session 1 -5\n"))
	f.Add([]byte("gopaste-session 1 99999999999999999999999\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		expiry, data, err := parse(b)
		if err != nil {
			return
		}
		re := append([]byte(magic+strconv.FormatInt(expiry.UnixNano(), 10)+"\n"), data...)
		e2, d2, err := parse(re)
		if err != nil || !e2.Equal(expiry) || string(d2) != string(data) {
			t.Fatalf("round trip of %q: %v %v %q", b, err, e2, d2)
		}
	})
}
