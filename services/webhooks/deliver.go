package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"incasso/db/dbgen"
	"incasso/services/events"
)

// secretPrefix starts every secret as handed out, as the Standard Webhooks libraries expect.
const secretPrefix = "whsec_"

// FormatSecret is a secret as handed to the endpoint's owner: "whsec_" and its base64.
func FormatSecret(secret []byte) string {
	return secretPrefix + base64.StdEncoding.EncodeToString(secret)
}

// Sign is the signature of a message under one secret: "v1," and the base64 HMAC-SHA256 of
// "<msgID>.<unix timestamp>.<body>".
func Sign(secret []byte, msgID string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Payload is the body of a delivery, as the Standard Webhooks scheme shapes it.
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"` // when the event occurred
	Data      json.RawMessage `json:"data"`
}

// responseMax is how much of an answer the delivery log keeps.
const responseMax = 1024

// ErrNotDelivered is an attempt the endpoint did not accept (no answer, or not a 2xx): the
// endpoint's workflow tries again later.
var ErrNotDelivered = errors.New("webhook not delivered")

// Sender sends deliveries over HTTP.
type Sender struct {
	Client *http.Client
	Now    func() time.Time
}

// NewSender is a Sender whose requests time out after timeout, follow no redirect, use no
// proxy and, unless allowPrivate, connect only to public addresses (Guard).
func NewSender(timeout time.Duration, allowPrivate bool) *Sender {
	dialer := &net.Dialer{Timeout: timeout, Control: Guard(allowPrivate)}
	return &Sender{
		Client: &http.Client{
			Timeout:       timeout,
			Transport:     &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout, MaxIdleConnsPerHost: 2},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Now: time.Now,
	}
}

// Guard refuses, unless allowPrivate, a connection to an address that is not public:
// loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata at 169.254.169.254),
// unspecified or multicast. It checks the address actually dialled, after DNS, so a name
// that resolves into the comune's network is refused too.
func Guard(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("webhook endpoint address %s is not public", host)
		}
		return nil
	}
}

// Outcome is what a call of Deliver did.
type Outcome struct {
	// Sent is true when the endpoint accepted it (now or before); Skipped when the endpoint is
	// no longer active and nothing was sent.
	Sent, Skipped bool
	StatusCode    int
}

// Deliver sends delivery id to its endpoint once, signed, and logs the attempt with the
// answer. A delivery done already is not sent again. An attempt not accepted is ErrNotDelivered.
func (s *Sender) Deliver(ctx context.Context, q *dbgen.Queries, id int64) (Outcome, error) {
	d, err := q.GetWebhookDelivery(ctx, id)
	if err != nil {
		return Outcome{}, fmt.Errorf("load webhook delivery %d: %w", id, err)
	}
	switch {
	case d.Status == "DELIVERED":
		return Outcome{Sent: true}, nil
	case d.EndpointStatus != StatusActive || d.Status != "PENDING":
		return Outcome{Skipped: true}, nil
	}
	msgID := events.EventID(d.EventID)
	body, err := json.Marshal(Payload{ID: msgID, Type: d.Type, Timestamp: d.OccurredAt.Time.UTC(), Data: d.Data})
	if err != nil {
		return Outcome{}, err
	}
	now := s.Now()
	signatures := []string{Sign(d.Secret, msgID, now, body)}
	if d.PreviousSecret != nil && d.PreviousValidUntil.Valid && now.Before(d.PreviousValidUntil.Time) {
		signatures = append(signatures, Sign(d.PreviousSecret, msgID, now, body))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Url, bytes.NewReader(body))
	if err != nil {
		return Outcome{}, fmt.Errorf("webhook delivery %d: %w", id, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "incasso-webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", strings.Join(signatures, " "))

	attempt := dbgen.RecordWebhookAttemptParams{DeliveryID: id}
	resp, err := s.Client.Do(req)
	attempt.TookMs = int32(s.Now().Sub(now).Milliseconds())
	if err != nil {
		attempt.Error = clip(errorText(err))
	} else {
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, responseMax))
		resp.Body.Close()
		attempt.StatusCode, attempt.Response = int32(resp.StatusCode), clip(string(answer))
		attempt.Delivered = resp.StatusCode >= 200 && resp.StatusCode < 300
	}
	if err := q.RecordWebhookAttempt(context.WithoutCancel(ctx), attempt); err != nil {
		return Outcome{}, fmt.Errorf("log webhook attempt of delivery %d: %w", id, err)
	}
	if !attempt.Delivered {
		return Outcome{StatusCode: int(attempt.StatusCode)}, fmt.Errorf("delivery %d: status %d %s: %w", id, attempt.StatusCode, attempt.Error, ErrNotDelivered)
	}
	return Outcome{Sent: true, StatusCode: int(attempt.StatusCode)}, nil
}

// errorText says why there was no answer without the URL, which may carry a token of the
// receiver's.
func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// clip keeps the log's text valid UTF-8 and at most responseMax bytes.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for len(s) > responseMax {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
