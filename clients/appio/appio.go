// Package appio is the client of the App IO services API (api.io.pagopa.it/api/v1, the spec
// in devstack/specs/citizen/io-services.yaml): the profile check of a citizen by fiscal code
// (POST /profiles, the fiscal code in the body, never in a URL) and the submission of a
// message, with the pagoPA notice's payment data so that it is paid in the app (POST
// /messages, the fiscal code again in the body).
//
// Each IO service has its own API key, and each incasso service sends as one IO service: the
// client holds a key per incasso service, and a service without one is not enabled for IO.
// A message is built once into its exact bytes (Message.Body), which the caller archives
// before they are sent; Submit sends those bytes and returns the answer's, to archive too.
// Errors name the operation and the status, never the fiscal code nor what IO answered.
package appio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"incasso/clients/internal/httpcore"
)

// maxAnswer bounds what is read of an answer: a profile or a message id.
const maxAnswer = 64 << 10

// Option configures a client.
type Option = httpcore.Option

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }

// Client calls App IO as the IO service of each incasso service. It is safe for concurrent use.
type Client struct {
	services map[string]*httpcore.Client // by incasso service code
}

// New returns a client of the IO API at baseURL (e.g. https://api.io.pagopa.it/api/v1) with
// keys, the API key of the IO service each incasso service sends as (by service code).
func New(baseURL string, keys map[string]string, timeout time.Duration, opts ...Option) *Client {
	c := &Client{services: map[string]*httpcore.Client{}}
	for service, key := range keys {
		c.services[service] = httpcore.New(httpcore.Config{
			Service: "app io", BaseURL: baseURL, KeyHeader: "Ocp-Apim-Subscription-Key", Key: key,
			Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind, Message: problemDetail,
		}, opts...)
	}
	return c
}

// Enabled tells whether the incasso service sends App IO messages (it has an IO key).
func (c *Client) Enabled(service string) bool { return c != nil && c.services[service] != nil }

// Services are the incasso services enabled for IO, sorted.
func (c *Client) Services() []string {
	var out []string
	for s := range c.services {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Profile is what IO says of a citizen for the calling service.
type Profile struct {
	// SenderAllowed is false when the citizen turned the service's messages off.
	SenderAllowed      bool     `json:"sender_allowed"`
	PreferredLanguages []string `json:"preferred_languages,omitempty"`
}

// Profile asks IO for the citizen's profile (getProfileByPOST). A citizen without a profile
// is ErrNoProfile.
func (c *Client) Profile(ctx context.Context, service, fiscalCode string) (Profile, error) {
	var p Profile
	body, err := json.Marshal(struct {
		FiscalCode string `json:"fiscal_code"`
	}{fiscalCode})
	if err != nil {
		return p, err
	}
	a, err := c.post(ctx, service, "get profile", "/profiles", body)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(a.Body, &p); err != nil {
		return p, fmt.Errorf("app io get profile: decode answer: %w", err)
	}
	return p, nil
}

// Submitted is IO's answer to a message: its id, and the exact bytes of the answer.
type Submitted struct {
	ID     string
	Answer []byte
}

// Submit sends body, a message built by Message.Body, as the IO service of the incasso
// service (submitMessageforUserWithFiscalCodeInBody), and returns the id IO gave it.
func (c *Client) Submit(ctx context.Context, service string, body []byte) (Submitted, error) {
	a, err := c.post(ctx, service, "submit message", "/messages", body)
	if err != nil {
		return Submitted{}, err
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.Body, &created); err != nil || created.ID == "" {
		return Submitted{}, fmt.Errorf("app io submit message: the answer has no message id")
	}
	return Submitted{ID: created.ID, Answer: a.Body}, nil
}

func (c *Client) post(ctx context.Context, service, op, path string, body []byte) (httpcore.Answer, error) {
	core := c.services[service]
	if core == nil {
		return httpcore.Answer{}, fmt.Errorf("app io %s: service %s: %w", op, service, ErrNotEnabled)
	}
	return core.Do(ctx, httpcore.Call{
		Op: op, Method: http.MethodPost, Path: path,
		Header: http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json"}},
		Body:   func() io.Reader { return bytes.NewReader(body) }, Size: int64(len(body)),
	})
}
