// Package send is incasso's client of SEND (Piattaforma Notifiche, PagoPA S.p.A.), the
// national platform that notifies acts with legal value, through its B2B API for public
// administrations (devstack/specs/citizen/send-b2b-pa.yaml): the act's documents pre-loaded
// (POST /delivery/attachments/preload, then each uploaded to its pre-signed URL with its
// SHA-256), the notification requested (POST /delivery/v2.6/requests) with the recipient's
// fiscal code and the pagoPA notice as its payment, its acceptance and then its status and
// timeline polled, and the legal facts (attestazioni opponibili a terzi) downloaded.
//
// Fiscal codes travel in request bodies; no error's message carries them, nor a URL.
package send

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"incasso/clients/internal/httpcore"
)

// Errors a caller tells apart.
var (
	// ErrConflict is a 409: a notification with the same protocol number and idempotence token
	// exists already (the request was taken before an answer was lost).
	ErrConflict = errors.New("notification exists in SEND already")
	// ErrNotFound is a 404.
	ErrNotFound = errors.New("not found in SEND")
	// ErrRejected is a 4xx other than 404, 409 and 429: retrying the same request will not help.
	ErrRejected = errors.New("request rejected by SEND")
)

// maxAnswer bounds what is read of an answer: a notification with its timeline, or a PDF.
const maxAnswer = 16 << 20

// Option configures a client.
type Option = httpcore.Option

// Client calls SEND with the API key. It is safe for concurrent use.
type Client struct {
	api     *httpcore.Client
	timeout time.Duration
	opts    []Option
}

// New returns a client of SEND's B2B API at baseURL with the API key (x-api-key).
func New(baseURL, apiKey string, timeout time.Duration, opts ...Option) *Client {
	return &Client{timeout: timeout, opts: opts, api: httpcore.New(httpcore.Config{
		Service: "send", BaseURL: baseURL, KeyHeader: "x-api-key", Key: apiKey,
		Timeout: timeout, MaxAnswer: maxAnswer, Kind: kind,
	}, opts...)}
}

// Document is a PDF to attach to a notification: the act, or the pagoPA notice.
type Document struct {
	Title   string
	Content []byte
}

// Ref is where SEND keeps an uploaded document, and its digest: what a notification cites.
type Ref struct {
	Key, VersionToken, SHA256 string
}

// Upload pre-loads the documents and uploads each to the URL SEND gave for it, with its
// SHA-256, returning their references in the same order.
func (c *Client) Upload(ctx context.Context, docs ...Document) ([]Ref, error) {
	type preload struct {
		PreloadIdx  string `json:"preloadIdx"`
		ContentType string `json:"contentType"`
		SHA256      string `json:"sha256"`
	}
	reqs := make([]preload, len(docs))
	for i, d := range docs {
		sum := sha256.Sum256(d.Content)
		reqs[i] = preload{PreloadIdx: fmt.Sprint(i), ContentType: "application/pdf", SHA256: base64.StdEncoding.EncodeToString(sum[:])}
	}
	var slots []struct {
		PreloadIdx string `json:"preloadIdx"`
		Secret     string `json:"secret"`
		HTTPMethod string `json:"httpMethod"`
		URL        string `json:"url"`
		Key        string `json:"key"`
	}
	if err := c.json(ctx, "preload documents", http.MethodPost, "/delivery/attachments/preload", reqs, &slots); err != nil {
		return nil, err
	}
	if len(slots) != len(docs) {
		return nil, fmt.Errorf("send preload documents: %d slots for %d documents", len(slots), len(docs))
	}
	refs := make([]Ref, len(docs))
	for _, s := range slots {
		var i int
		if _, err := fmt.Sscan(s.PreloadIdx, &i); err != nil || i < 0 || i >= len(docs) || refs[i].Key != "" {
			return nil, fmt.Errorf("send preload documents: unexpected preloadIdx %q", s.PreloadIdx)
		}
		version, err := c.put(ctx, s.HTTPMethod, s.URL, s.Secret, reqs[i].SHA256, docs[i].Content)
		if err != nil {
			return nil, err
		}
		refs[i] = Ref{Key: s.Key, VersionToken: version, SHA256: reqs[i].SHA256}
	}
	return refs, nil
}

// put uploads one document to its pre-signed URL and returns the version SEND's storage gave it.
func (c *Client) put(ctx context.Context, method, target, secret, sum string, content []byte) (string, error) {
	if method == "" {
		method = http.MethodPut
	}
	storage := httpcore.New(httpcore.Config{
		Service: "send", KeyHeader: "x-amz-meta-secret", Key: secret, Timeout: c.timeout, MaxAnswer: 1 << 16, Kind: kind,
	}, c.opts...)
	a, err := storage.Do(ctx, httpcore.Call{
		Op: "upload document", Method: method, Path: target,
		Header: http.Header{"Content-Type": {"application/pdf"}, "x-amz-checksum-sha256": {sum}},
		Body:   func() io.Reader { return bytes.NewReader(content) }, Size: int64(len(content)),
	})
	if err != nil {
		return "", err
	}
	return a.Header.Get("x-amz-version-id"), nil
}

// Recipient is whom a notification is for.
type Recipient struct {
	Company    bool   // PG, else PF
	FiscalCode string // codice fiscale, or partita IVA
	Name       string
	PEC        string // a special digital domicile, when known; SEND looks up the general one
	Address    *Address
}

// Address is a physical address for SEND's paper fallback.
type Address struct {
	Street, PostalCode, City, Province string
}

// Notification is a request to notify an act.
type Notification struct {
	ProtocolNumber   string // paProtocolNumber: incasso's reference of the act
	IdempotenceToken string
	Subject          string
	Recipient        Recipient
	Act              Ref // the act, as Upload returned it
	ActTitle         string
	Payment          Ref    // the pagoPA notice PDF
	NoticeNumber     string // the notice's 18 digits
	CreditorTaxID    string
	SenderName       string
	TaxonomyCode     string
	Amount           int64  // cents
	PayBy            string // yyyy-mm-dd
}

// Create requests the notification and returns SEND's notificationRequestId. A request SEND
// has already (the same protocol number and token) is ErrConflict: ask RequestStatus.
func (c *Client) Create(ctx context.Context, n Notification) (string, error) {
	r := n.Recipient
	rec := map[string]any{"recipientType": "PF", "taxId": r.FiscalCode, "denomination": r.Name,
		"payments": []any{map[string]any{"pagoPa": map[string]any{
			"noticeCode": n.NoticeNumber, "creditorTaxId": n.CreditorTaxID, "applyCost": false,
			"attachment": attachment(n.Payment),
		}}}}
	if r.Company {
		rec["recipientType"] = "PG"
	}
	if r.PEC != "" {
		rec["digitalDomicile"] = map[string]any{"type": "PEC", "address": r.PEC}
	}
	if a := r.Address; a != nil {
		rec["physicalAddress"] = map[string]any{"address": a.Street, "zip": a.PostalCode, "municipality": a.City, "province": a.Province}
	}
	doc := attachment(n.Act)
	doc["title"], doc["docIdx"] = n.ActTitle, "0"
	body := map[string]any{
		"paProtocolNumber": n.ProtocolNumber, "idempotenceToken": n.IdempotenceToken, "subject": n.Subject,
		"recipients": []any{rec}, "documents": []any{doc},
		"physicalCommunicationType": "AR_REGISTERED_LETTER", "notificationFeePolicy": "FLAT_RATE",
		"senderDenomination": n.SenderName, "senderTaxId": n.CreditorTaxID, "taxonomyCode": n.TaxonomyCode,
		"amount": n.Amount, "paymentExpirationDate": n.PayBy, "pagoPaIntMode": "NONE",
	}
	var out struct {
		NotificationRequestID string `json:"notificationRequestId"`
	}
	if err := c.json(ctx, "create notification", http.MethodPost, "/delivery/v2.6/requests", body, &out); err != nil {
		return "", err
	}
	return out.NotificationRequestID, nil
}

func attachment(r Ref) map[string]any {
	return map[string]any{"digests": map[string]any{"sha256": r.SHA256}, "contentType": "application/pdf",
		"ref": map[string]any{"key": r.Key, "versionToken": r.VersionToken}}
}

// Request states of a notification request.
const (
	RequestWaiting  = "WAITING"
	RequestAccepted = "ACCEPTED"
	RequestRefused  = "REFUSED"
)

// RequestStatus is whether SEND accepted a notification request, and its IUN once it did.
type RequestStatus struct {
	RequestID, Status, IUN string
}

// RequestStatus asks how the request of the protocol number and token stands.
func (c *Client) RequestStatus(ctx context.Context, protocolNumber, idempotenceToken string) (RequestStatus, error) {
	path := "/delivery/v2.6/requests?paProtocolNumber=" + url.QueryEscape(protocolNumber) + "&idempotenceToken=" + url.QueryEscape(idempotenceToken)
	var out struct {
		NotificationRequestID     string `json:"notificationRequestId"`
		NotificationRequestStatus string `json:"notificationRequestStatus"`
		IUN                       string `json:"iun"`
	}
	if err := c.json(ctx, "request status", http.MethodGet, path, nil, &out); err != nil {
		return RequestStatus{}, err
	}
	return RequestStatus{RequestID: out.NotificationRequestID, Status: out.NotificationRequestStatus, IUN: out.IUN}, nil
}

// Notification states that end a notification without reaching the recipient.
var failedStates = map[string]bool{"UNREACHABLE": true, "CANCELLED": true, "RETURNED_TO_SENDER": true}

// State is where a notification stands: its status, when it was perfected (zero until then),
// the legal facts its timeline cites, and the timeline's exact JSON.
type State struct {
	Status      string
	PerfectedAt time.Time
	LegalFacts  []LegalFactRef
	Timeline    json.RawMessage
}

// Failed reports whether the notification ended without reaching the recipient.
func (s State) Failed() bool { return failedStates[s.Status] }

// LegalFactRef names a legal fact SEND issued.
type LegalFactRef struct {
	Key      string `json:"key"`
	Category string `json:"category"`
}

// Notification reads the notification's status and timeline. It is perfected at the first
// of EFFECTIVE_DATE (perfezionamento per decorrenza termini) and VIEWED (the recipient read it).
func (c *Client) Notification(ctx context.Context, iun string) (State, error) {
	var out struct {
		NotificationStatus        string `json:"notificationStatus"`
		NotificationStatusHistory []struct {
			Status     string    `json:"status"`
			ActiveFrom time.Time `json:"activeFrom"`
		} `json:"notificationStatusHistory"`
		Timeline json.RawMessage `json:"timeline"`
	}
	if err := c.json(ctx, "read notification", http.MethodGet, "/delivery/v2.9/notifications/sent/"+url.PathEscape(iun), nil, &out); err != nil {
		return State{}, err
	}
	s := State{Status: out.NotificationStatus, Timeline: out.Timeline}
	for _, h := range out.NotificationStatusHistory {
		if (h.Status == "EFFECTIVE_DATE" || h.Status == "VIEWED") && (s.PerfectedAt.IsZero() || h.ActiveFrom.Before(s.PerfectedAt)) {
			s.PerfectedAt = h.ActiveFrom
		}
	}
	var timeline []struct {
		LegalFactsIDs []LegalFactRef `json:"legalFactsIds"`
	}
	if err := json.Unmarshal(out.Timeline, &timeline); err != nil {
		return State{}, fmt.Errorf("send read notification: decode timeline: %w", err)
	}
	for _, e := range timeline {
		s.LegalFacts = append(s.LegalFacts, e.LegalFactsIDs...)
	}
	return s, nil
}

// LegalFact is a downloaded legal fact.
type LegalFact struct {
	Filename string
	Content  []byte
}

// ErrNotReady is a legal fact SEND is still preparing (its answer had no URL, only retryAfter).
var ErrNotReady = errors.New("legal fact not ready yet")

// DownloadLegalFact asks for the legal fact's download URL and fetches the file.
func (c *Client) DownloadLegalFact(ctx context.Context, iun, key string) (LegalFact, error) {
	var meta struct {
		Filename string `json:"filename"`
		URL      string `json:"url"`
	}
	path := "/delivery-push/" + url.PathEscape(iun) + "/download/legal-facts/" + url.PathEscape(key)
	if err := c.json(ctx, "legal fact", http.MethodGet, path, nil, &meta); err != nil {
		return LegalFact{}, err
	}
	if meta.URL == "" {
		return LegalFact{}, ErrNotReady
	}
	storage := httpcore.New(httpcore.Config{Service: "send", Timeout: c.timeout, MaxAnswer: maxAnswer, Kind: kind}, c.opts...)
	a, err := storage.Do(ctx, httpcore.Call{Op: "download legal fact", Method: http.MethodGet, Path: meta.URL})
	if err != nil {
		return LegalFact{}, err
	}
	return LegalFact{Filename: meta.Filename, Content: a.Body}, nil
}

// json sends in (if not nil) as JSON and decodes a successful answer into out.
func (c *Client) json(ctx context.Context, op, method, path string, in, out any) error {
	return c.api.DoJSON(ctx, httpcore.Call{Op: op, Method: method, Path: path}, in, out)
}

func kind(status int) error {
	switch {
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusNotFound:
		return ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		return ErrRejected
	}
	return nil
}

// WithTransport makes the requests through rt, e.g. one that measures them.
func WithTransport(rt http.RoundTripper) Option { return httpcore.WithTransport(rt) }
