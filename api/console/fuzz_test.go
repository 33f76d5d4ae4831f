package console

import (
	"strings"
	"testing"
	"time"
)

// FuzzSessionCookie feeds cookie values to the session check's first step: whatever the
// browser sends, only a value the console signed for that purpose is accepted, and it gives
// back the payload that was signed, never a mutation of it.
func FuzzSessionCookie(f *testing.F) {
	s := newSessions(strings.Repeat("k", 40), nil)
	const payload = "client|tributi|1733500000|nonce"
	signed := s.sign("session", payload)
	f.Add("session", signed)
	f.Add("login", signed)
	f.Add("session", signed+"A")
	f.Add("session", "."+strings.SplitN(signed, ".", 2)[1])
	f.Add("session", "")
	f.Fuzz(func(t *testing.T, purpose, value string) {
		got, mac, ok := s.verify(purpose, value)
		if !ok {
			if got != nil || mac != nil {
				t.Fatalf("a refused value gave a payload or a MAC")
			}
			return
		}
		if purpose != "session" || strings.Join(got, "|") != payload {
			t.Fatalf("accepted a value the console did not sign for %q: payload %q", purpose, got)
		}
		if _, ok := expiry(got[2], time.Unix(1733400000, 0)); !ok {
			t.Fatalf("the signed expiry no longer reads")
		}
	})
}
