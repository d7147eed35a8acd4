package ledger

import (
	"encoding/json"
	"testing"
)

// FuzzParseCommit: commit objects come from the bucket, which an operator
// can write; no content may crash the reader, and what it accepts is a
// commit of the position it was read at with a leaf for every entry.
func FuzzParseCommit(f *testing.F) {
	f.Add([]byte(`{"start":0,"size":1,"time":"2026-11-20T09:30:00Z","entries":[{"id":"a","envelope":"\"leaf\""}],"checkpoint":"x"}`))
	f.Add([]byte(`{"start":0,"size":2,"entries":[{"id":"a","envelope":"\"x\""}]}`))
	l := New(nil, nil, Config{
		Origin: func(string) string { return "o" },
		Prefix: func(string) string { return "p/" },
		Leaf: func(rec []byte) ([]byte, error) {
			var s string
			err := json.Unmarshal(rec, &s)
			return []byte(s), err
		},
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, leaves, err := l.parseCommit(data, 0)
		if err != nil {
			return
		}
		if c.Start != 0 || c.Size != int64(len(c.Entries)) || len(leaves) != len(c.Entries) || len(c.Entries) == 0 {
			t.Fatalf("accepted %s as %+v", data, c)
		}
	})
}
