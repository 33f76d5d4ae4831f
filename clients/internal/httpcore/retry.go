package httpcore

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Policy bounds how a client repeats a call after a temporary failure (Error.Temporary).
// The zero value makes one attempt, which is what an activity wants.
type Policy struct {
	Attempts int           // tries in all, the first included; less than 1 means 1
	Initial  time.Duration // wait after the first failure, doubled after each further one
	Max      time.Duration // cap on every wait, Retry-After included
}

// Wait returns how long to wait after the n-th failed attempt: Retry-After when the server
// asked for it, else Initial*2^(n-1) with equal jitter (half fixed, half random), so that
// clients failing together do not retry together. Both are capped at Max.
func (p Policy) Wait(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.Max)
	}
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter is the wait a response asks for in Retry-After (whole seconds only), or 0.
func retryAfter(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
