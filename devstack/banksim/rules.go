package banksim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"incasso/domain/sepa/pain008"
)

// Rule rejects the next Times transactions of mandate MandateID ("*": of any mandate) with
// reason Code, e.g. AM04. Rules apply in the order they were added, before the rates.
type Rule struct {
	MandateID string `json:"mandateId"`
	Code      string `json:"code"`
	Times     int    `json:"times,omitempty"` // 0 means 1
}

// FileReject rejects the next Times files as a whole (GrpSts RJCT) with reason Code, e.g.
// FF01: a technical error on the creditor's side. A new one replaces the one pending.
type FileReject struct {
	Code  string `json:"code"`
	Times int    `json:"times,omitempty"` // 0 means 1
}

// rate is the probability p of rejecting a transaction with code.
type rate struct {
	code string
	p    float64
}

// sortedRates returns the rates by code.
func sortedRates(rates map[string]float64) []rate {
	out := make([]rate, 0, len(rates))
	for _, code := range slices.Sorted(maps.Keys(rates)) {
		out = append(out, rate{code, rates[code]})
	}
	return out
}

// validCode reports whether code looks like an ISO 20022 reason code: 4 capitals or digits.
func validCode(code string) bool {
	if len(code) != 4 {
		return false
	}
	for _, c := range code {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func (b *Bank) postRule(w http.ResponseWriter, r *http.Request) {
	var rule Rule
	if !decode(w, r, &rule) {
		return
	}
	if rule.Times == 0 {
		rule.Times = 1
	}
	if rule.MandateID == "" || !validCode(rule.Code) || rule.Times < 0 {
		writeError(w, http.StatusBadRequest, `rule: mandateId ("*" for any), a 4-character code and times >= 1 (default 1) are required`)
		return
	}
	b.mu.Lock()
	b.rules = append(b.rules, rule)
	b.mu.Unlock()
	b.cfg.Logger.Info("bank: rule added", "code", rule.Code, "times", rule.Times, "anyMandate", rule.MandateID == "*")
	w.WriteHeader(http.StatusNoContent)
}

func (b *Bank) deleteRules(w http.ResponseWriter, _ *http.Request) {
	b.mu.Lock()
	b.rules, b.fileRejects = nil, FileReject{}
	b.mu.Unlock()
	b.cfg.Logger.Info("bank: rules cleared")
	w.WriteHeader(http.StatusNoContent)
}

func (b *Bank) postFileReject(w http.ResponseWriter, r *http.Request) {
	var fr FileReject
	if !decode(w, r, &fr) {
		return
	}
	if fr.Times == 0 {
		fr.Times = 1
	}
	if !validCode(fr.Code) || fr.Times < 0 {
		writeError(w, http.StatusBadRequest, "file reject: a 4-character code and times >= 1 (default 1) are required")
		return
	}
	b.mu.Lock()
	b.fileRejects = fr
	b.mu.Unlock()
	b.cfg.Logger.Info("bank: file reject pending", "code", fr.Code, "times", fr.Times)
	w.WriteHeader(http.StatusNoContent)
}

// takeFileReject returns the reason to reject the file arriving now with, or "". The caller
// holds b.mu.
func (b *Bank) takeFileReject() string {
	if b.fileRejects.Times == 0 {
		return ""
	}
	b.fileRejects.Times--
	return b.fileRejects.Code
}

// rejectCode returns the reason to reject t with, or "": the first rule for its mandate,
// else the first code, in sorted order, whose rate exceeds t's draw for it. The caller
// holds b.mu.
func (b *Bank) rejectCode(t pain008.Transaction) string {
	for i := range b.rules {
		rule := &b.rules[i]
		if rule.MandateID != "*" && rule.MandateID != t.MandateID {
			continue
		}
		code := rule.Code
		if rule.Times--; rule.Times == 0 {
			b.rules = slices.Delete(b.rules, i, i+1)
		}
		return code
	}
	for _, r := range b.rates {
		if draw(b.cfg.Seed, t.EndToEndID, r.code) < r.p {
			return r.code
		}
	}
	return ""
}

// draw is a number in [0,1) that depends only on its arguments, uniform over them.
func draw(seed int64, endToEndID, code string) float64 {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s", seed, endToEndID, code))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}
