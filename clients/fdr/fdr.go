// Package fdr is a client of pagoPA's FdR organization API (Flussi di Rendicontazione, the
// creditor's side): the reporting flows the PSPs published for the comune, each flow's header
// by revision, and its payments, page by page. Amounts are read into integer cents; a flow or
// a page that breaks the spec's rules is an error wrapping ErrMalformed, which the intake keeps
// as a MALFORMED flow.
package fdr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"incasso/clients/internal/httpcore"
	"incasso/domain/money"
)

// maxAnswer bounds what is read of an answer: a page of at most MaxPageSize payments.
const maxAnswer = 4 << 20

// MaxPageSize is the largest page the list of flows allows (and the payments' default).
const MaxPageSize = 1000

// Errors a caller tells apart. A *StatusError wraps the first three with the HTTP status.
var (
	ErrNotFound  = errors.New("not found in FdR")
	ErrRejected  = errors.New("request rejected by FdR")
	ErrMalformed = errors.New("malformed reporting flow")
)

// StatusError is a request FdR did not answer with a success (see httpcore.Error).
type StatusError = httpcore.Error

// Option configures a client.
type Option = httpcore.Option

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }

// WithRetry makes the client repeat a request that failed temporarily. Not for activities.
func WithRetry(p httpcore.Policy) Option { return httpcore.WithRetry(p) }

// Client calls the FdR organization API. It is safe for concurrent use.
type Client struct {
	core *httpcore.Client
}

// New returns a client of the API at baseURL (ending in /service/v1), with the subscription key.
func New(baseURL, subscriptionKey string, timeout time.Duration, opts ...Option) *Client {
	return &Client{core: httpcore.New(httpcore.Config{
		Service: "fdr", BaseURL: baseURL, KeyHeader: "Ocp-Apim-Subscription-Key", Key: subscriptionKey,
		Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind, Message: appErrorCode,
	}, opts...)}
}

// FlowRef is a flow in the list: enough to get it.
type FlowRef struct {
	FlowID    string
	PSPID     string
	Revision  int64
	Published time.Time
	FlowDate  time.Time
}

// Page says where a page is among all.
type Page struct {
	Number, Total int // Total: how many pages there are
}

// Last reports whether no page follows.
func (p Page) Last() bool { return p.Number >= p.Total }

// ListFlows returns the page (from 1) of the flows of organization published after
// publishedAfter, size per page (1 to MaxPageSize).
func (c *Client) ListFlows(ctx context.Context, organization string, publishedAfter time.Time, page, size int) ([]FlowRef, Page, error) {
	q := url.Values{"page": {strconv.Itoa(page)}, "size": {strconv.Itoa(size)},
		"publishedGt": {publishedAfter.UTC().Format(time.RFC3339)}}
	var out struct {
		Metadata metadata `json:"metadata"`
		Data     []struct {
			FDR       string    `json:"fdr"`
			PSPID     string    `json:"pspId"`
			Revision  int64     `json:"revision"`
			Published time.Time `json:"published"`
			FlowDate  time.Time `json:"flowDate"`
		} `json:"data"`
	}
	path := "/organizations/" + url.PathEscape(organization) + "/fdrs?" + q.Encode()
	if _, err := c.get(ctx, "list flows", path, &out); err != nil {
		return nil, Page{}, err
	}
	refs := make([]FlowRef, 0, len(out.Data))
	for _, d := range out.Data {
		if d.FDR == "" || d.PSPID == "" || d.Revision < 1 {
			return nil, Page{}, fmt.Errorf("fdr list flows: %w: an entry without fdr, pspId or revision", ErrMalformed)
		}
		refs = append(refs, FlowRef{FlowID: d.FDR, PSPID: d.PSPID, Revision: d.Revision, Published: d.Published, FlowDate: d.FlowDate})
	}
	return refs, out.Metadata.page(), nil
}

// Flow is a flow's header, one revision.
type Flow struct {
	FlowID           string
	Revision         int64
	Status           string
	FlowDate         time.Time
	Published        time.Time
	Regulation       string // the credit transfer's reference (IUR of the regulation)
	RegulationDate   time.Time
	BIC              string
	PSPID            string
	OrganizationID   string
	TotPayments      int64
	SumPaymentsCents money.Cents
	Raw              []byte // the answer as received
}

// GetFlow returns the header of the revision of the flow of the PSP. A header the client
// cannot read is an error wrapping ErrMalformed, with the raw answer in the flow returned.
func (c *Client) GetFlow(ctx context.Context, organization, flowID string, revision int64, pspID string) (Flow, error) {
	var out struct {
		Status         string      `json:"status"`
		Revision       int64       `json:"revision"`
		FDR            string      `json:"fdr"`
		FDRDate        time.Time   `json:"fdrDate"`
		Published      time.Time   `json:"published"`
		Regulation     string      `json:"regulation"`
		RegulationDate string      `json:"regulationDate"`
		BIC            string      `json:"bicCodePouringBank"`
		TotPayments    int64       `json:"totPayments"`
		SumPayments    json.Number `json:"sumPayments"`
		Sender         struct {
			PSPID string `json:"pspId"`
		} `json:"sender"`
		Receiver struct {
			OrganizationID string `json:"organizationId"`
		} `json:"receiver"`
	}
	raw, err := c.get(ctx, "get flow", flowPath(organization, flowID, revision, pspID), &out)
	f := Flow{Raw: raw}
	if err != nil {
		return f, err
	}
	f.FlowID, f.Revision, f.Status, f.FlowDate, f.Published = out.FDR, out.Revision, out.Status, out.FDRDate, out.Published
	f.Regulation, f.BIC, f.PSPID, f.OrganizationID, f.TotPayments = out.Regulation, out.BIC, out.Sender.PSPID, out.Receiver.OrganizationID, out.TotPayments
	switch {
	case f.FlowID != flowID || f.Revision != revision:
		return f, fmt.Errorf("fdr get flow: %w: fdr or revision is not the one asked for", ErrMalformed)
	case f.PSPID != pspID || f.OrganizationID != organization:
		return f, fmt.Errorf("fdr get flow: %w: sender.pspId or receiver.organizationId is not the one asked for", ErrMalformed)
	}
	if f.SumPaymentsCents, err = Cents(out.SumPayments); err != nil {
		return f, fmt.Errorf("fdr get flow: %w: sumPayments: %w", ErrMalformed, err)
	}
	if out.RegulationDate != "" {
		if f.RegulationDate, err = time.Parse(time.DateOnly, out.RegulationDate); err != nil {
			return f, fmt.Errorf("fdr get flow: %w: regulationDate is not a date", ErrMalformed)
		}
	}
	return f, nil
}

// Payment is one line of a flow.
type Payment struct {
	Index       int64
	IUV, IUR    string
	TransferIdx int
	AmountCents money.Cents
	PayStatus   string // EXECUTED, REVOKED, STAND_IN, STAND_IN_NO_RPT, NO_RPT
	PayDate     time.Time
}

// OutcomeCode is the codiceEsitoSingoloPagamento of a payStatus, -1 for none.
func OutcomeCode(payStatus string) int {
	switch payStatus {
	case "EXECUTED":
		return 0
	case "REVOKED":
		return 3
	case "STAND_IN":
		return 4
	case "STAND_IN_NO_RPT":
		return 8
	case "NO_RPT":
		return 9
	}
	return -1
}

// Payments returns the page (from 1) of the payments of the revision of the flow, size per
// page, and the page's bytes as received (hashed by the intake). A payment that breaks the
// spec's rules is an error wrapping ErrMalformed naming its index.
func (c *Client) Payments(ctx context.Context, organization, flowID string, revision int64, pspID string, page, size int) ([]Payment, Page, []byte, error) {
	var out struct {
		Metadata metadata `json:"metadata"`
		Data     []struct {
			Index      int64       `json:"index"`
			IUV        string      `json:"iuv"`
			IUR        string      `json:"iur"`
			IDTransfer int         `json:"idTransfer"`
			Pay        json.Number `json:"pay"`
			PayStatus  string      `json:"payStatus"`
			PayDate    time.Time   `json:"payDate"`
		} `json:"data"`
	}
	path := flowPath(organization, flowID, revision, pspID) + "/payments?" +
		url.Values{"page": {strconv.Itoa(page)}, "size": {strconv.Itoa(size)}}.Encode()
	raw, err := c.get(ctx, "get payments", path, &out)
	if err != nil {
		return nil, Page{}, raw, err
	}
	ps := make([]Payment, 0, len(out.Data))
	for _, d := range out.Data {
		p := Payment{Index: d.Index, IUV: d.IUV, IUR: d.IUR, TransferIdx: d.IDTransfer, PayStatus: d.PayStatus, PayDate: d.PayDate}
		if p.AmountCents, err = Cents(d.Pay); err != nil {
			return nil, Page{}, raw, fmt.Errorf("fdr payment %d: %w: pay: %w", d.Index, ErrMalformed, err)
		}
		if err := p.check(); err != nil {
			return nil, Page{}, raw, fmt.Errorf("fdr payment %d: %w: %w", d.Index, ErrMalformed, err)
		}
		ps = append(ps, p)
	}
	return ps, out.Metadata.page(), raw, nil
}

// check applies the spec's rules to a payment.
func (p Payment) check() error {
	switch {
	case p.Index < 1:
		return errors.New("index must be >= 1")
	case len(p.IUV) < 1 || len(p.IUV) > 35:
		return errors.New("iuv must be 1 to 35 characters")
	case len(p.IUR) < 1 || len(p.IUR) > 35:
		return errors.New("iur must be 1 to 35 characters")
	case p.TransferIdx < 1 || p.TransferIdx > 5:
		return errors.New("idTransfer must be 1 to 5")
	case OutcomeCode(p.PayStatus) < 0:
		return errors.New("payStatus is not one of the spec's")
	case p.PayDate.IsZero():
		return errors.New("payDate is missing")
	}
	return nil
}

// Cents reads a JSON number of euro with at most two decimals ("12.5", "12.50", "12").
func Cents(n json.Number) (money.Cents, error) {
	s := string(n)
	whole, frac, ok := strings.Cut(s, ".")
	switch {
	case !ok:
		frac = "00"
	case len(frac) == 1:
		frac += "0"
	}
	return money.ParseDecimal(whole + "." + frac)
}

type metadata struct {
	PageNumber int `json:"pageNumber"`
	TotPage    int `json:"totPage"`
}

func (m metadata) page() Page { return Page{Number: m.PageNumber, Total: m.TotPage} }

func flowPath(organization, flowID string, revision int64, pspID string) string {
	return "/organizations/" + url.PathEscape(organization) + "/fdrs/" + url.PathEscape(flowID) +
		"/revisions/" + strconv.FormatInt(revision, 10) + "/psps/" + url.PathEscape(pspID)
}

// get decodes a successful answer to a GET of path into out and returns its bytes; an answer
// that is not the JSON expected wraps ErrMalformed.
func (c *Client) get(ctx context.Context, op, path string, out any) ([]byte, error) {
	a, err := c.core.Do(ctx, httpcore.Call{Op: op, Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(a.Body, out); err != nil {
		return a.Body, fmt.Errorf("fdr %s: %w: %w", op, ErrMalformed, err)
	}
	return a.Body, nil
}

// kind is what a status other than success means: the sentinel it wraps.
func kind(status int) error {
	switch {
	case status == http.StatusNotFound:
		return ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return ErrRejected
	}
	return nil
}

// appErrorCode is the code FdR answered with an error (FDR-XXXX), if any.
func appErrorCode(body []byte) string {
	var e struct {
		AppErrorCode string `json:"appErrorCode"`
	}
	_ = json.Unmarshal(body, &e)
	return e.AppErrorCode
}
