package gpd

import (
	"context"
	"net/url"
	"time"
)

// Receipts calls the GPD payments-receipts service, where pagoPA keeps the receipts of the
// notices paid: the EC's fallback for receipts whose paSendRTV2 never reached it.
type Receipts struct {
	conn conn
}

// NewReceipts returns a client of the payments-receipts service at baseURL (ending in /v1),
// with the same key, timeout and options as New.
func NewReceipts(baseURL, subscriptionKey string, timeout time.Duration, opts ...Option) *Receipts {
	return &Receipts{conn: newConn(baseURL, subscriptionKey, timeout, opts)}
}

// GetReceipt returns the stored receipt of the notice iuv of the organization as pagoPA
// keeps it: the XML of the paSendRTV2 request. No receipt answers ErrNotFound.
func (r *Receipts) GetReceipt(ctx context.Context, organization, iuv string) ([]byte, error) {
	path := "/payments/" + url.PathEscape(organization) + "/receipts/" + url.PathEscape(iuv)
	return r.conn.get(ctx, "get receipt", path, "application/xml")
}
