// Package standardwebhooks verifies a webhook signed with the Standard Webhooks scheme, as
// incasso signs its deliveries: written from the specification (standardwebhooks.com), apart
// from incasso's own signer, so that a receiver can copy it and the tests check one against
// the other.
package standardwebhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Tolerance is how far a webhook-timestamp may be from the receiver's clock: an older message
// is a replay, refused.
const Tolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissingHeaders = errors.New("webhook-id, webhook-timestamp and webhook-signature are required")
	ErrStale          = errors.New("webhook-timestamp is too old or too far in the future")
	ErrSignature      = errors.New("no signature matches")
)

// Verifier checks deliveries against one secret ("whsec_" and base64, as incasso hands it out).
type Verifier struct {
	key []byte
	Now func() time.Time // nil: time.Now
}

// NewVerifier reads the secret.
func NewVerifier(secret string) (*Verifier, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("the secret is not whsec_ and base64")
	}
	return &Verifier{key: key}, nil
}

// Verify checks the headers of a delivery and its body, exactly as received: a timestamp
// within Tolerance, and one of the space-separated v1 signatures the HMAC-SHA256 of
// "id.timestamp.body" under the secret.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	mac := hmac.New(sha256.New, v.key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
