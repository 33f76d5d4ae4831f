package main

import (
	"io"
	"net/http"
	"sync"

	"incasso/examples/webhook-receiver/standardwebhooks"
)

// Handler verifies each delivery and hands the new ones to got, by webhook-id, once each.
func Handler(v *standardwebhooks.Verifier, got func(id string, body []byte)) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := v.Verify(r.Header, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("webhook-id")
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if !dup {
			got(id, body)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
