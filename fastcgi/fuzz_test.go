package fastcgi

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopaste/gopaste/internal/cgivars"
	"github.com/gopaste/gopaste/internal/wiretest"
)

func FuzzReader(f *testing.F) {
	f.Add(wireRequest(1, FlagKeepConn, benchPairs(), "body"))
	f.Add(AppendRecord(nil, TypeGetValues, 0, AppendPairs(nil, []Pair{{Name: MaxConnsVar, Value: ""}})))
	f.Add([]byte{1, 6, 0, 1, 0, 3, 5, 0, 'a', 'b', 'c', 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		rr := NewReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; i < 1000; i++ {
			if err := rr.Next(); err != nil {
				return
			}
			h := rr.Header
			if len(rr.Content) != int(h.ContentLength) {
				t.Fatalf("content %d bytes, header says %d", len(rr.Content), h.ContentLength)
			}
			// Re-encoding gives the same record, up to padding.
			back := NewReader(bufio.NewReader(bytes.NewReader(AppendRecord(nil, h.Type, h.ID, rr.Content))))
			content := append([]byte(nil), rr.Content...)
			if err := back.Next(); err != nil || back.Header.Type != h.Type || back.Header.ID != h.ID || !bytes.Equal(back.Content, content) {
				t.Fatalf("round trip of %+v: %+v %v", h, back.Header, err)
			}
			switch h.Type {
			case TypeBeginRequest:
				ParseBeginRequest(content)
			case TypeParams, TypeGetValues:
				ParsePairs(content, func(string, string) error { return nil })
			}
		}
	})
}

func FuzzParsePairs(f *testing.F) {
	for _, tc := range pairCases {
		f.Add([]byte(tc.wire))
	}
	f.Add(AppendPairs(nil, benchPairs()))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pairs []Pair
		if err := ParsePairs(data, func(n, v string) error { pairs = append(pairs, Pair{Name: n, Value: v}); return nil }); err != nil {
			return
		}
		// Our encoding is canonical (short lengths when they fit), the
		// input need not be: compare meaning, not bytes.
		var again []Pair
		if err := ParsePairs(AppendPairs(nil, pairs), func(n, v string) error { again = append(again, Pair{Name: n, Value: v}); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(pairs, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		// And agrees with the encoding written from the spec by hand.
		var kv []string
		for _, p := range pairs {
			kv = append(kv, p.Name, p.Value)
		}
		if got, ref := AppendPairs(nil, pairs), wiretest.FCGIPairs(kv...); !bytes.Equal(got, ref) {
			t.Fatalf("AppendPairs %q, spec %q", got, ref)
		}
		// The variables never panic the request mapping.
		ps := make([]cgivars.Pair, len(pairs))
		for i, p := range pairs {
			ps[i] = cgivars.Pair{Name: p.Name, Value: p.Value}
		}
		cgivars.ToRequest(ps, bytes.NewReader(nil))
	})
}

// FuzzServerConn feeds arbitrary bytes to the server as one connection:
// it must end (no hang) without panicking, and what it writes is a
// sequence of well-formed records of the types a server sends, in which
// every request that got output ends with END_REQUEST.
func FuzzServerConn(f *testing.F) {
	f.Add(wireRequest(1, 0, []Pair{{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "CONTENT_LENGTH", Value: "3"}}, "abc"))
	f.Add(wireRequest(1, FlagKeepConn, benchPairs(), ""))
	f.Add(append(wireRequest(1, FlagKeepConn, benchPairs(), ""), wireRequest(2, 0, benchPairs(), "")...))
	f.Add(AppendRecord(nil, TypeGetValues, 0, AppendPairs(nil, []Pair{{Name: MaxConnsVar, Value: ""}})))
	// The same kind of request written from the spec, not by our encoder.
	f.Add(wiretest.FCGIRequest(3, wiretest.FCGIKeepConn, "hello", "REQUEST_METHOD", "PUT", "CONTENT_LENGTH", "5", "PATH_INFO", "/x"))
	s := &Server{Logger: quiet(), Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := wiretest.NewConn(data)
		done := make(chan struct{})
		go func() {
			s.serveConn(c)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("server hung on %q", data)
		}
		checkServerRecords(t, data, c.Written())
	})
}

// checkServerRecords checks that out, a server's whole output, is records
// a server may send, and that the last record of each request is its
// END_REQUEST.
func checkServerRecords(t *testing.T, in, out []byte) {
	t.Helper()
	rr := NewReader(bufio.NewReader(bytes.NewReader(out)))
	last := map[uint16]RecordType{}
	for {
		err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("input %q: output %q is not records: %v", in, out, err)
		}
		h := rr.Header
		switch h.Type {
		case TypeStdout, TypeStderr:
		case TypeEndRequest:
			if _, err := ParseEndRequest(rr.Content); err != nil {
				t.Fatalf("input %q: END_REQUEST %q: %v", in, rr.Content, err)
			}
		case TypeGetValuesResult, TypeUnknownType:
			if h.ID != 0 {
				t.Fatalf("input %q: management record %d for request %d", in, h.Type, h.ID)
			}
		default:
			t.Fatalf("input %q: a server sent record type %d", in, h.Type)
		}
		if h.ID != 0 {
			last[h.ID] = h.Type
		}
	}
	for id, typ := range last {
		if typ != TypeEndRequest {
			t.Fatalf("input %q: request %d ends with record type %d, not END_REQUEST; output %q", in, id, typ, out)
		}
	}
}
