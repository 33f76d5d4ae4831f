package pagopasim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Faults make the simulated GPD services (debt positions and receipts) misbehave, to test
// how the EC copes. The zero value is a well-behaved GPD.
type Faults struct {
	// Count is how many of the next GPD requests fail with Status instead of being served.
	Count  int `json:"count,omitempty"`
	Status int `json:"status,omitempty"` // 400 to 599, e.g. 503, or 429 with RetryAfter
	// RetryAfter, in seconds, is sent as the Retry-After header of the failures when positive.
	RetryAfter int `json:"retryAfter,omitempty"`
	// LatencyMS delays every GPD request, failures included, until the faults are cleared.
	LatencyMS int `json:"latencyMs,omitempty"`
}

// ErrInvalidFaults is returned by InjectFaults for faults it cannot apply.
var ErrInvalidFaults = errors.New("invalid faults")

// InjectFaults replaces the faults in force.
func (p *PagoPA) InjectFaults(f Faults) error {
	if f.Count < 0 || f.RetryAfter < 0 || f.LatencyMS < 0 || (f.Count > 0 && (f.Status < 400 || f.Status > 599)) {
		return ErrInvalidFaults
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	return nil
}

// ClearFaults makes GPD behave again.
func (p *PagoPA) ClearFaults() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = Faults{}
}

// misbehave applies the faults in force to a GPD request and reports whether to serve it.
func (p *PagoPA) misbehave(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	f := p.faults
	if p.faults.Count > 0 {
		p.faults.Count--
	}
	p.mu.Unlock()
	if f.LatencyMS > 0 {
		t := time.NewTimer(time.Duration(f.LatencyMS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		}
	}
	if f.Count == 0 {
		return true
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	problem(w, f.Status, http.StatusText(f.Status)+" (injected by the simulator)")
	return false
}

func (p *PagoPA) postFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		problem(w, http.StatusBadRequest, "faults: malformed JSON: "+err.Error())
		return
	}
	if err := p.InjectFaults(f); err != nil {
		problem(w, http.StatusBadRequest, "faults: count, retryAfter and latencyMs must be >= 0, and status 400 to 599 when count > 0")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *PagoPA) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	p.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}
