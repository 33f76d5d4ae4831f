// Package inad looks up a citizen's digital domicile in INAD (Indice nazionale dei domicili
// digitali, AgID) by fiscal code: the punctual extraction of devstack/specs/citizen/
// inad-extraction.yaml, GET /extract/{codice_fiscale}, with the PDND voucher as bearer token.
// The answer is returned with its exact bytes, which the caller archives as proof of the
// address used. The fiscal code travels in the path, as the spec wants: it is never in an
// error's message (httpcore leaves URLs out).
package inad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"incasso/clients/internal/httpcore"
)

// ErrRejected is a 4xx other than 404 and 429: retrying the same lookup will not help.
var ErrRejected = errors.New("request rejected by INAD")

// maxAnswer bounds what is read of an answer: a few addresses.
const maxAnswer = 1 << 20

// Option configures a client.
type Option = httpcore.Option

// Client calls INAD's extraction API. It is safe for concurrent use.
type Client struct {
	core *httpcore.Client
	now  func() time.Time
}

// New returns a client of INAD at baseURL (e.g. https://api.inad.gov.it/rest/inad/v1/domiciliodigitale)
// with the PDND voucher token.
func New(baseURL, token string, timeout time.Duration, opts ...Option) *Client {
	return &Client{now: time.Now, core: httpcore.New(httpcore.Config{
		Service: "inad", BaseURL: baseURL, KeyHeader: "Authorization", Key: "Bearer " + token,
		Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind,
	}, opts...)}
}

// Answer is what INAD said of a fiscal code: the digital domicile in force (empty when there
// is none) and the exact bytes of the answer.
type Answer struct {
	Found   bool
	Address string
	Raw     []byte
}

// extraction is Response_Request_Digital_Address.
type extraction struct {
	CodiceFiscale  string    `json:"codiceFiscale"`
	Since          time.Time `json:"since"`
	DigitalAddress []struct {
		DigitalAddress string `json:"digitalAddress"`
		UsageInfo      struct {
			DateEndValidity time.Time `json:"dateEndValidity"`
		} `json:"usageInfo"`
	} `json:"digitalAddress"`
}

// Extract returns the digital domicile of the fiscal code in force now, for the administrative
// procedure named by practicalReference. INAD's 404 (no domicile) is an Answer without address.
func (c *Client) Extract(ctx context.Context, fiscalCode, practicalReference string) (Answer, error) {
	path := "/extract/" + url.PathEscape(fiscalCode) + "?practicalReference=" + url.QueryEscape(practicalReference)
	a, err := c.core.Do(ctx, httpcore.Call{
		Op: "extract domicile", Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {"application/json"}},
		Success: func(status int) bool { return status == http.StatusOK || status == http.StatusNotFound },
	})
	if err != nil {
		return Answer{}, err
	}
	if a.Status == http.StatusNotFound {
		return Answer{Raw: a.Body}, nil
	}
	var x extraction
	if err := json.Unmarshal(a.Body, &x); err != nil {
		return Answer{}, fmt.Errorf("inad extract domicile: decode answer: %w", err)
	}
	now := c.now()
	for _, d := range x.DigitalAddress {
		if d.DigitalAddress != "" && (d.UsageInfo.DateEndValidity.IsZero() || d.UsageInfo.DateEndValidity.After(now)) {
			return Answer{Found: true, Address: d.DigitalAddress, Raw: a.Body}, nil
		}
	}
	return Answer{Raw: a.Body}, nil
}

func kind(status int) error {
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return ErrRejected
	}
	return nil
}

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }
