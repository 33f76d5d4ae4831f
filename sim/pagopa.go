// Package sim simulates the outside systems incasso talks to, on their real wire formats, for
// `incasso dev` and the end-to-end tests: pagoPA's GPD service and a PSP paying a notice
// through the Nodo, which delivers the receipt to the EC with paSendRTV2.
package sim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"incasso/money"
	"incasso/pagopa"
	"incasso/pagopa/gpd"
)

// GPDBasePath is where the simulated GPD service is mounted.
const GPDBasePath = "/gpd/debt-positions-service/v1"

// PagoPA is the simulated platform. It is safe for concurrent use.
type PagoPA struct {
	// SubscriptionKey is the key GPD callers must present.
	SubscriptionKey string
	// ECEndpoint is the EC's paForNode SOAP URL, and NodeKey the secret the Nodo sends it.
	ECEndpoint, NodeKey string
	// Broker and Station identify the EC's station in paSendRTV2 headers.
	Broker, Station string

	mu        sync.Mutex
	positions map[string]*gpd.Position // by organization/iupd
	byNAV     map[string]string        // NAV -> organization/iupd
	client    http.Client
}

// NewPagoPA returns an empty simulator.
func NewPagoPA(subscriptionKey, ecEndpoint, nodeKey, broker, station string) *PagoPA {
	return &PagoPA{
		SubscriptionKey: subscriptionKey, ECEndpoint: ecEndpoint, NodeKey: nodeKey,
		Broker: broker, Station: station,
		positions: map[string]*gpd.Position{}, byNAV: map[string]string{},
		client: http.Client{Timeout: 30 * time.Second},
	}
}

// Handler serves the GPD subset and the /sim/pay/{nav} trigger.
func (p *PagoPA) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+GPDBasePath+"/organizations/{org}/debtpositions", p.authorized(p.createPosition))
	mux.HandleFunc("GET "+GPDBasePath+"/organizations/{org}/debtpositions/{iupd}", p.authorized(p.getPosition))
	mux.HandleFunc("POST /sim/pay/{nav}", p.pay)
	return mux
}

func (p *PagoPA) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Ocp-Apim-Subscription-Key") != p.SubscriptionKey {
			problem(w, http.StatusUnauthorized, "Access denied due to invalid subscription key")
			return
		}
		h(w, r)
	}
}

func (p *PagoPA) createPosition(w http.ResponseWriter, r *http.Request) {
	var pos gpd.Position
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&pos); err != nil {
		problem(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	if msg := validatePosition(pos); msg != "" {
		problem(w, http.StatusBadRequest, msg)
		return
	}
	key := r.PathValue("org") + "/" + pos.IUPD
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.positions[key]; ok {
		problem(w, http.StatusConflict, "Conflict: debt position already exists")
		return
	}
	for i := range pos.PaymentOptions {
		opt := &pos.PaymentOptions[i]
		opt.NAV = "3" + opt.IUV
		if _, ok := p.byNAV[opt.NAV]; ok {
			problem(w, http.StatusConflict, "Conflict: IUV already used")
			return
		}
	}
	pos.Status = "DRAFT"
	if r.URL.Query().Get("toPublish") == "true" {
		pos.Status = "VALID"
	}
	p.positions[key] = &pos
	for _, opt := range pos.PaymentOptions {
		p.byNAV[opt.NAV] = key
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(pos)
}

// validatePosition applies the constraints of gpd-debt-positions-v1.json that matter here.
func validatePosition(pos gpd.Position) string {
	switch {
	case pos.IUPD == "" || pos.FiscalCode == "" || pos.FullName == "" || pos.CompanyName == "":
		return "iupd, fiscalCode, fullName and companyName are required"
	case pos.Type != "F" && pos.Type != "G":
		return "type must be F or G"
	case len(pos.PaymentOptions) == 0:
		return "at least one paymentOption is required"
	}
	for _, opt := range pos.PaymentOptions {
		if len(opt.IUV) != 17 || opt.Amount < 1 || len(opt.Description) > 140 || opt.DueDate.IsZero() {
			return "paymentOption: iuv (17 digits), amount >= 1, description <= 140 and dueDate are required"
		}
		if len(opt.Transfers) < 1 || len(opt.Transfers) > 5 {
			return "paymentOption: 1 to 5 transfers"
		}
		var sum int64
		for _, t := range opt.Transfers {
			sum += t.Amount
		}
		if sum != opt.Amount {
			return "paymentOption: transfers do not sum to the amount"
		}
	}
	return ""
}

func (p *PagoPA) getPosition(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	pos, ok := p.positions[r.PathValue("org")+"/"+r.PathValue("iupd")]
	var cp gpd.Position
	if ok {
		cp = *pos
	}
	p.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "Not found: debt position")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(cp)
}

// PayResult is what /sim/pay answers: the EC's outcome for the receipt the PSP sent.
type PayResult struct {
	ReceiptID string `json:"receiptId"`
	Outcome   string `json:"outcome"`
	FaultCode string `json:"faultCode,omitempty"`
}

// pay simulates a PSP collecting the notice nav and the Nodo delivering the receipt to the EC.
// ?receiptId= reuses a receipt id (to simulate the Nodo re-sending); an unknown NAV is still
// sent (with ?organization= and ?amount= in cents), as a misrouted receipt would be.
func (p *PagoPA) pay(w http.ResponseWriter, r *http.Request) {
	nav := r.PathValue("nav")
	resend := r.URL.Query().Get("receiptId")
	if resend == "" && p.isPaid(nav) {
		problem(w, http.StatusConflict, "notice already paid (PAA_PAGAMENTO_DUPLICATO): pass ?receiptId= to re-send its receipt")
		return
	}
	receipt, org, err := p.receiptFor(nav, r.URL.Query().Get("organization"), r.URL.Query().Get("amount"))
	if err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	if resend != "" {
		receipt.ReceiptID = resend
	}
	resp, err := p.SendReceipt(r.Context(), org, receipt)
	if err != nil {
		problem(w, http.StatusBadGateway, err.Error())
		return
	}
	res := PayResult{ReceiptID: receipt.ReceiptID, Outcome: resp.Outcome}
	if resp.Fault != nil {
		res.FaultCode = resp.Fault.FaultCode
	}
	if resp.Outcome == "OK" {
		p.markPaid(nav)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func (p *PagoPA) receiptFor(nav, org, amount string) (pagopa.ReceiptV2, string, error) {
	if _, err := pagopa.ParseNAV(nav); err != nil {
		return pagopa.ReceiptV2{}, "", err
	}
	now := time.Now().In(time.FixedZone("CET", 3600))
	r := pagopa.ReceiptV2{
		ReceiptID: newReceiptID(), NoticeNumber: nav, Outcome: "OK", CreditorReferenceID: nav[1:],
		IDPSP: "SIMPSP01", PSPCompanyName: "PSP Simulato S.p.A.", IDChannel: "SIMPSP01_ONLINE",
		ChannelDescription: "app", PaymentMethod: "creditCard", Fee: "1.00",
		PaymentDateTime: now.Format("2006-01-02T15:04:05"), ApplicationDate: now.Format("2006-01-02"),
		TransferDate: now.AddDate(0, 0, 1).Format("2006-01-02"),
	}
	p.mu.Lock()
	key, known := p.byNAV[nav]
	var pos gpd.Position
	if known {
		pos = *p.positions[key]
	}
	p.mu.Unlock()
	if !known {
		if len(org) != 11 {
			return r, "", fmt.Errorf("notice %s is unknown to the simulator: pass ?organization= (11 digits) to send it anyway", nav)
		}
		cents := money.Cents(100)
		if amount != "" {
			if _, err := fmt.Sscan(amount, &cents); err != nil || cents < 1 {
				return r, "", fmt.Errorf("amount must be cents >= 1")
			}
		}
		r.FiscalCode, r.PaymentAmount, r.Description, r.CompanyName = org, cents.Decimal(), "Pagamento sconosciuto", "Ente"
		r.Debtor.UniqueIdentifier.Type, r.Debtor.UniqueIdentifier.Value, r.Debtor.FullName = "F", "ANONIMO", "Anonimo"
		r.Transfers = []pagopa.ReceiptTransfer{{IDTransfer: "1", TransferAmount: cents.Decimal(), FiscalCodePA: org,
			IBAN: "IT60X0542811101000000123456", RemittanceInformation: "Pagamento", TransferCategory: "9/0101108TS/"}}
		return r, org, nil
	}
	org = key[:11]
	opt := pos.PaymentOptions[0]
	for _, o := range pos.PaymentOptions {
		if o.NAV == nav {
			opt = o
		}
	}
	r.FiscalCode, r.PaymentAmount, r.Description, r.CompanyName = org, money.Cents(opt.Amount).Decimal(), opt.Description, pos.CompanyName
	r.Debtor.UniqueIdentifier.Type, r.Debtor.UniqueIdentifier.Value, r.Debtor.FullName = pos.Type, pos.FiscalCode, pos.FullName
	for _, t := range opt.Transfers {
		r.Transfers = append(r.Transfers, pagopa.ReceiptTransfer{
			IDTransfer: t.IDTransfer, TransferAmount: money.Cents(t.Amount).Decimal(), FiscalCodePA: org,
			IBAN: t.IBAN, RemittanceInformation: t.RemittanceInformation, TransferCategory: t.Category,
		})
	}
	return r, org, nil
}

// SendReceipt delivers receipt to the EC as the Nodo does (paSendRTV2) and returns its answer.
func (p *PagoPA) SendReceipt(ctx context.Context, org string, receipt pagopa.ReceiptV2) (pagopa.Response, error) {
	body, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, pagopa.SendRTV2Request{
		Header:  pagopa.Header{IDPA: org, IDBrokerPA: p.Broker, IDStation: p.Station},
		Receipt: receipt,
	})
	if err != nil {
		return pagopa.Response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.ECEndpoint, bytes.NewReader(body))
	if err != nil {
		return pagopa.Response{}, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", pagopa.OpSendRTV2)
	req.Header.Set("X-Node-Key", p.NodeKey)
	resp, err := p.client.Do(req)
	if err != nil {
		return pagopa.Response{}, fmt.Errorf("send receipt: %w", err)
	}
	defer resp.Body.Close()
	_, inner, err := pagopa.Unwrap(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return pagopa.Response{}, fmt.Errorf("EC answered HTTP %d with no SOAP response: %w", resp.StatusCode, err)
	}
	var out pagopa.SendRTV2Response
	if err := pagopa.DecodeBody(inner, &out); err != nil {
		return pagopa.Response{}, err
	}
	return out.Response, nil
}

func (p *PagoPA) isPaid(nav string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	key, ok := p.byNAV[nav]
	return ok && p.positions[key].Status == "PAID"
}

func (p *PagoPA) markPaid(nav string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if key, ok := p.byNAV[nav]; ok {
		p.positions[key].Status = "PAID"
	}
}

func newReceiptID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func problem(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": title})
}
