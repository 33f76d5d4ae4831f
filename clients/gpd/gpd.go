// Package gpd is a client of pagoPA's GPD services: debt positions (v1), where the EC
// registers its debt positions and pagoPA answers the PSPs about them, and payments receipts,
// where the EC recovers the receipts it missed. The wire formats follow
// gpd-debt-positions-v1.json and gpd-payments-receipts.json; pointing the base URLs at
// pagoPA's UAT is configuration only. Each call makes one attempt, and a failure that may
// pass (StatusError.Temporary) is the caller's to retry: an activity's retry policy does,
// visibly in the workflow history; WithRetry makes the client itself try again.
package gpd

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Transfer is one beneficiary share of a payment option (TransferModel).
type Transfer struct {
	IDTransfer            string `json:"idTransfer"`
	Amount                int64  `json:"amount"`
	RemittanceInformation string `json:"remittanceInformation"`
	Category              string `json:"category"`
	IBAN                  string `json:"iban,omitempty"`
	// OrganizationFiscalCode is the beneficiary when it is not the organization of the position.
	OrganizationFiscalCode string `json:"organizationFiscalCode,omitempty"`
	CompanyName            string `json:"companyName,omitempty"` // the beneficiary's name, with OrganizationFiscalCode
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
	Status          string          `json:"status,omitempty"` // set by GPD; never sent
	PaymentOptions  []PaymentOption `json:"paymentOption"`
}

// Paid says how a notice was collected outside pagoPA (for instance by SEPA direct debit),
// for MarkPaid.
type Paid struct {
	Date       time.Time `json:"paymentDate"`
	Method     string    `json:"paymentMethod,omitempty"` // e.g. "SDD"
	PSPCompany string    `json:"pspCompany,omitempty"`    // who collected it
}

// Client calls the GPD debt-positions service.
type Client struct {
	conn conn
}

// New returns a client of the GPD debt-positions service at baseURL (ending in /v1). Each
// attempt of a request times out after timeout; a request makes one attempt, unless
// WithRetry says otherwise.
func New(baseURL, subscriptionKey string, timeout time.Duration, opts ...Option) *Client {
	return &Client{conn: newConn(baseURL, subscriptionKey, timeout, opts)}
}

// CreateAndPublish registers p for the organization and publishes it (toPublish=true).
// A position whose IUPD or notice exists already answers ErrConflict.
func (c *Client) CreateAndPublish(ctx context.Context, organization string, p Position) error {
	p.Status = "" // read-only
	return c.conn.json(ctx, "create position", http.MethodPost, positions(organization)+"?toPublish=true", p, nil)
}

// Get reads the position iupd of the organization.
func (c *Client) Get(ctx context.Context, organization, iupd string) (Position, error) {
	var p Position
	err := c.conn.json(ctx, "get position", http.MethodGet, position(organization, iupd), nil, &p)
	return p, err
}

// Update replaces the position p.IUPD, its payment options included, and publishes it.
// A position that is paid or invalid answers ErrConflict.
func (c *Client) Update(ctx context.Context, organization string, p Position) error {
	p.Status = "" // read-only
	return c.conn.json(ctx, "update position", http.MethodPut, position(organization, p.IUPD)+"?toPublish=true", p, nil)
}

// Invalidate cancels the position iupd: its notices can no longer be paid. A position that
// is paid, or already invalid, answers ErrConflict.
func (c *Client) Invalidate(ctx context.Context, organization, iupd string) error {
	return c.conn.json(ctx, "invalidate position", http.MethodPost, position(organization, iupd)+"/invalidate", nil, nil)
}

// MarkPaid records that the notice nav was paid outside pagoPA, so that it cannot be paid
// twice. A notice already paid answers ErrConflict. The operation is in DOMAIN.md but not in
// the shared gpd-debt-positions-v1.json; its body is the Paid object.
func (c *Client) MarkPaid(ctx context.Context, organization, nav string, paid Paid) error {
	path := "/organizations/" + url.PathEscape(organization) + "/paymentoptions/paids/" + url.PathEscape(nav)
	return c.conn.json(ctx, "mark paid", http.MethodPost, path, paid, nil)
}

func positions(organization string) string {
	return "/organizations/" + url.PathEscape(organization) + "/debtpositions"
}

func position(organization, iupd string) string {
	return positions(organization) + "/" + url.PathEscape(iupd)
}
