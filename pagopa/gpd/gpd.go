// Package gpd is a client of pagoPA's GPD debt-positions service (v1): the EC registers its
// debt positions there and pagoPA answers the PSPs about them. The wire format follows
// gpd-debt-positions-v1.json; pointing BaseURL at pagoPA's UAT is configuration only.
package gpd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Errors a caller tells apart. A *StatusError wraps them with the HTTP status.
var (
	ErrConflict = errors.New("debt position already exists")
	ErrNotFound = errors.New("debt position not found")
	ErrRejected = errors.New("request rejected by GPD") // a 4xx other than 404/409/429: retrying will not help
)

// StatusError is a response GPD answered with a status other than success.
type StatusError struct {
	Op     string
	Status int
	Title  string // the problem title GPD returned, if any
	kind   error
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("gpd %s: HTTP %d %s", e.Op, e.Status, e.Title)
}

// Unwrap lets callers match ErrConflict, ErrNotFound, ErrRejected.
func (e *StatusError) Unwrap() error { return e.kind }

// Transfer is one beneficiary share of a payment option (TransferModel).
type Transfer struct {
	IDTransfer            string `json:"idTransfer"`
	Amount                int64  `json:"amount"`
	RemittanceInformation string `json:"remittanceInformation"`
	Category              string `json:"category"`
	IBAN                  string `json:"iban,omitempty"`
}

// PaymentOption is one way to pay the position (PaymentOptionModel); amounts in cents.
type PaymentOption struct {
	NAV              string     `json:"nav,omitempty"`
	IUV              string     `json:"iuv"`
	Amount           int64      `json:"amount"`
	Description      string     `json:"description"`
	IsPartialPayment bool       `json:"isPartialPayment"`
	DueDate          time.Time  `json:"dueDate"`
	Transfers        []Transfer `json:"transfer"`
}

// Position is a debt position (PaymentPositionModel).
type Position struct {
	IUPD            string          `json:"iupd"`
	Type            string          `json:"type"`
	FiscalCode      string          `json:"fiscalCode"`
	FullName        string          `json:"fullName"`
	Email           string          `json:"email,omitempty"`
	CompanyName     string          `json:"companyName"`
	SwitchToExpired bool            `json:"switchToExpired"`
	Status          string          `json:"status,omitempty"`
	PaymentOptions  []PaymentOption `json:"paymentOption"`
}

// Client calls GPD for one organization (the EC).
type Client struct {
	baseURL         string
	subscriptionKey string
	http            *http.Client
}

// New returns a client of the GPD service at baseURL (ending in /v1).
func New(baseURL, subscriptionKey string, timeout time.Duration) *Client {
	return &Client{baseURL: baseURL, subscriptionKey: subscriptionKey, http: &http.Client{Timeout: timeout}}
}

// CreateAndPublish registers p for the organization and publishes it (toPublish=true).
// A position that already exists answers ErrConflict.
func (c *Client) CreateAndPublish(ctx context.Context, organization string, p Position) error {
	path := "/organizations/" + url.PathEscape(organization) + "/debtpositions?toPublish=true"
	return c.do(ctx, "create position", http.MethodPost, path, p, nil)
}

// Get reads the position iupd of the organization.
func (c *Client) Get(ctx context.Context, organization, iupd string) (Position, error) {
	var p Position
	path := "/organizations/" + url.PathEscape(organization) + "/debtpositions/" + url.PathEscape(iupd)
	err := c.do(ctx, "get position", http.MethodGet, path, nil, &p)
	return p, err
}

func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("gpd %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, body)
	if err != nil {
		return fmt.Errorf("gpd %s: %w", op, err)
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", c.subscriptionKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("gpd %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("gpd %s: read response: %w", op, err)
	}
	if resp.StatusCode >= 300 {
		return statusError(op, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("gpd %s: decode response: %w", op, err)
		}
	}
	return nil
}

func statusError(op string, status int, body []byte) error {
	var problem struct {
		Title string `json:"title"`
	}
	_ = json.Unmarshal(body, &problem)
	e := &StatusError{Op: op, Status: status, Title: problem.Title}
	switch {
	case status == http.StatusConflict:
		e.kind = ErrConflict
	case status == http.StatusNotFound:
		e.kind = ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		e.kind = ErrRejected
	}
	return e
}
