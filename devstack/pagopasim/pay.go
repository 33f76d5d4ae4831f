package pagopasim

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"incasso/clients/gpd"
	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/pagopa"
)

// The PSP that pays every notice in the simulator.
const (
	pspID          = "BCITITMM"
	pspCompanyName = "Intesa Sanpaolo S.p.A."
	pspChannel     = "BCITITMM_01"
	pspChannelDesc = "app"
	pspMethod      = "CP" // payment card
	pspFee         = money.Cents(100)
)

// MaxDuplicates bounds Payment.Duplicates.
const MaxDuplicates = 10

// Why Pay refuses a payment; the /sim/pay route answers them as 400, 409 and 422.
var (
	ErrInvalidPayment = errors.New("invalid payment")
	ErrAlreadyPaid    = errors.New("notice already paid")
	ErrNotPayable     = errors.New("notice not payable")
)

// Payment is what a PSP pays, and how the Nodo misbehaves delivering its receipt.
type Payment struct {
	NAV string // the notice number; the only field required
	// Organization is the EC. It is required for a notice GPD does not hold (a receipt for a
	// notice the EC never issued, say) and tells apart two organizations with the same NAV.
	Organization string
	// Amount, when not zero, is the receipt's paymentAmount in place of the option's (the
	// transfers stay the option's); for a notice GPD does not hold it defaults to 1.00 euro.
	Amount money.Cents
	// ReceiptID re-delivers: the receipt of that id if it is of this notice, else a new
	// receipt with that id. The notice may be paid or invalid already.
	ReceiptID string
	// Early pays a notice not published yet: a DRAFT position, or one GPD does not hold, in
	// which case Organization and Amount are required.
	Early bool
	// Undelivered stores the receipt in the receipts API and marks the notice paid, but never
	// pushes it to the EC, whose recovery must find it.
	Undelivered bool
	// Duplicates is how many times the same receipt is pushed again after the first push, up
	// to MaxDuplicates.
	Duplicates int
	// PSP is the id of the PSP that collects (and reports it in its flow), when not the
	// simulator's usual one.
	PSP string
}

// Push is the EC's answer to one paSendRTV2.
type Push struct {
	Outcome   string `json:"outcome"`
	FaultCode string `json:"faultCode,omitempty"`
}

// PayResult is what Pay and /sim/pay answer.
type PayResult struct {
	ReceiptID string `json:"receiptId"`
	// Outcome and FaultCode are the EC's answer to the first push; empty when undelivered.
	Outcome   string `json:"outcome,omitempty"`
	FaultCode string `json:"faultCode,omitempty"`
	Pushes    []Push `json:"pushes"` // every push in order, duplicates included
}

// Pay simulates a PSP collecting a notice and the Nodo delivering its receipt to the EC.
// Every receipt made is kept in the receipts API. The notice becomes PAID when the EC
// accepts a push of its receipt, or when the receipt is undelivered (pagoPA was paid all
// the same); after a KO it stays payable. Pay fails with ErrInvalidPayment, ErrAlreadyPaid,
// ErrNotPayable, or when the EC cannot be reached or answers no SOAP response.
func (p *PagoPA) Pay(ctx context.Context, pay Payment) (PayResult, error) {
	req, err := p.receipt(pay)
	if err != nil {
		return PayResult{}, err
	}
	res := PayResult{ReceiptID: req.Receipt.ReceiptID, Pushes: []Push{}}
	paid := pay.Undelivered
	for i := 0; !pay.Undelivered && i <= pay.Duplicates && err == nil; i++ {
		var resp pagopa.Response
		if resp, err = p.SendReceipt(ctx, req.IDPA, req.Receipt); err == nil {
			push := Push{Outcome: resp.Outcome}
			if resp.Fault != nil {
				push.FaultCode = resp.Fault.FaultCode
			}
			res.Pushes = append(res.Pushes, push)
			paid = paid || resp.Outcome == "OK"
		}
	}
	if len(res.Pushes) > 0 {
		res.Outcome, res.FaultCode = res.Pushes[0].Outcome, res.Pushes[0].FaultCode
	}
	if paid {
		p.mu.Lock()
		if pos, ok := p.position(p.notices[key(req.IDPA, pay.NAV)]); ok {
			pos.Status = statusPaid
		}
		p.mu.Unlock()
	}
	return res, err
}

// receipt returns the paSendRTV2 request of pay: the stored one it re-delivers, or a new
// receipt, which it stores.
func (p *PagoPA) receipt(pay Payment) (pagopa.SendRTV2Request, error) {
	none := pagopa.SendRTV2Request{}
	if _, err := pagopa.ParseNAV(pay.NAV); err != nil {
		return none, fmt.Errorf("%w: %w", ErrInvalidPayment, err)
	}
	if pay.Duplicates < 0 || pay.Duplicates > MaxDuplicates || pay.Amount < 0 || len(pay.PSP) > 20 {
		return none, fmt.Errorf("%w: duplicates must be 0 to %d, the amount >= 0 and the PSP id at most 20 characters", ErrInvalidPayment, MaxDuplicates)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	org, pos, err := p.notice(pay.Organization, pay.NAV)
	if err != nil {
		return none, err
	}
	if pay.ReceiptID != "" {
		for _, r := range p.receipts {
			if r.Receipt.ReceiptID == pay.ReceiptID && r.Receipt.NoticeNumber == pay.NAV && r.IDPA == org {
				return r, nil
			}
		}
	}
	if err := payable(pay, pos); err != nil {
		return none, err
	}
	req := pagopa.SendRTV2Request{Header: p.header(org), Receipt: newReceipt(org, pay, pos)}
	p.receipts = append(p.receipts, req)
	return req, nil
}

// notice finds the position of the notice nav, of org if given, and returns its organization;
// a nil position is a notice GPD does not hold. The caller holds p.mu.
func (p *PagoPA) notice(org, nav string) (string, *gpd.Position, error) {
	owner := p.notices[key(org, nav)]
	if org == "" {
		for k, o := range p.notices {
			if kOrg, kNAV, _ := strings.Cut(k, "/"); kNAV == nav {
				if owner != "" {
					return "", nil, fmt.Errorf("%w: notice %s is of several organizations: pass organization", ErrInvalidPayment, nav)
				}
				org, owner = kOrg, o
			}
		}
	}
	pos, _ := p.position(owner)
	return org, pos, nil
}

// payable checks that pay may make a new receipt for the notice of pos (nil: not in GPD).
func payable(pay Payment, pos *gpd.Position) error {
	if pos == nil {
		switch {
		case len(pay.Organization) != 11:
			return fmt.Errorf("%w: notice %s is unknown to the simulator: pass organization (11 digits) to pay it anyway", ErrInvalidPayment, pay.NAV)
		case pay.Early && pay.Amount == 0:
			return fmt.Errorf("%w: an early payment of a notice GPD does not hold needs the amount", ErrInvalidPayment)
		}
		return nil
	}
	if pay.ReceiptID != "" {
		return nil // a deliberate re-delivery
	}
	switch pos.Status {
	case statusValid:
		return nil
	case statusDraft:
		if pay.Early {
			return nil
		}
		return fmt.Errorf("%w: position %s is not published (DRAFT): pay early (early=1) to send a receipt anyway", ErrNotPayable, pos.IUPD)
	case statusPaid:
		return fmt.Errorf("%w (%s): pass the receiptId to re-send its receipt", ErrAlreadyPaid, pagopa.FaultDuplicatePayment)
	case statusInvalid:
		return fmt.Errorf("%w: position %s is INVALID (%s)", ErrNotPayable, pos.IUPD, pagopa.FaultCancelledPayment)
	default:
		return fmt.Errorf("%w: position %s is %s (%s)", ErrNotPayable, pos.IUPD, pos.Status, pagopa.FaultExpiredPayment)
	}
}

// newReceipt makes the receipt of a payment by the simulated PSP now: from the option of pos,
// or made up for a notice GPD does not hold (pos nil).
func newReceipt(org string, pay Payment, pos *gpd.Position) pagopa.ReceiptV2 {
	now := time.Now().In(date.Rome)
	r := pagopa.ReceiptV2{
		ReceiptID: pay.ReceiptID, NoticeNumber: pay.NAV, FiscalCode: org, Outcome: "OK", CreditorReferenceID: pay.NAV[1:],
		IDPSP: cmp.Or(pay.PSP, pspID), PSPCompanyName: pspCompanyName, IDChannel: pspChannel, ChannelDescription: pspChannelDesc,
		PaymentMethod: pspMethod, Fee: pspFee.Decimal(),
		PaymentDateTime: now.Format("2006-01-02T15:04:05"), ApplicationDate: now.Format("2006-01-02"),
		TransferDate: now.AddDate(0, 0, 1).Format("2006-01-02"),
	}
	if r.ReceiptID == "" {
		r.ReceiptID = newReceiptID()
	}
	if pos == nil {
		amount := cmp.Or(pay.Amount, 100)
		r.PaymentAmount, r.Description, r.CompanyName = amount.Decimal(), "Avviso non presente in GPD", "Ente"
		r.Debtor.UniqueIdentifier.Type, r.Debtor.UniqueIdentifier.Value, r.Debtor.FullName = "F", "ANONIMO", "Anonimo"
		r.Transfers = []pagopa.ReceiptTransfer{{IDTransfer: "1", TransferAmount: amount.Decimal(), FiscalCodePA: org,
			IBAN: "IT60X0542811101000000123456", RemittanceInformation: "Pagamento", TransferCategory: "9/0101108TS/"}}
		return r
	}
	opt := option(pos, pay.NAV)
	r.PaymentAmount = cmp.Or(pay.Amount, money.Cents(opt.Amount)).Decimal()
	r.Description, r.CompanyName = opt.Description, pos.CompanyName
	r.Debtor.UniqueIdentifier.Type, r.Debtor.UniqueIdentifier.Value = pos.Type, pos.FiscalCode
	r.Debtor.FullName, r.Debtor.Email = pos.FullName, pos.Email
	for _, t := range opt.Transfers {
		r.Transfers = append(r.Transfers, pagopa.ReceiptTransfer{
			IDTransfer: t.IDTransfer, TransferAmount: money.Cents(t.Amount).Decimal(),
			FiscalCodePA: cmp.Or(t.OrganizationFiscalCode, org), IBAN: t.IBAN,
			RemittanceInformation: t.RemittanceInformation, TransferCategory: t.Category,
		})
	}
	return r
}

// pay is POST /sim/pay/{nav}; the query sets the other fields of Payment: organization,
// amount (cents), receiptId, early=1, deliver=false, duplicate=N, psp.
func (p *PagoPA) pay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pay := Payment{NAV: r.PathValue("nav"), Organization: q.Get("organization"), ReceiptID: q.Get("receiptId"), PSP: q.Get("psp")}
	var errs []error
	if s := q.Get("amount"); s != "" {
		cents, err := strconv.ParseInt(s, 10, 64)
		if err != nil || cents < 1 {
			errs = append(errs, errors.New("amount must be cents >= 1"))
		}
		pay.Amount = money.Cents(cents)
	}
	pay.Early = boolParam(q.Get("early"), false, "early", &errs)
	pay.Undelivered = !boolParam(q.Get("deliver"), true, "deliver", &errs)
	if s := q.Get("duplicate"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			errs = append(errs, errors.New("duplicate must be a number"))
		}
		pay.Duplicates = n
	}
	if len(errs) > 0 {
		problem(w, http.StatusBadRequest, errors.Join(errs...).Error())
		return
	}
	res, err := p.Pay(r.Context(), pay)
	switch {
	case errors.Is(err, ErrInvalidPayment):
		problem(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrAlreadyPaid):
		problem(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrNotPayable):
		problem(w, http.StatusUnprocessableEntity, err.Error())
	case err != nil:
		problem(w, http.StatusBadGateway, err.Error())
	default:
		jsonhttp.Write(w, http.StatusOK, res)
	}
}

// boolParam reads the query parameter name, def when absent.
func boolParam(s string, def bool, name string, errs *[]error) bool {
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s must be true or false", name))
	}
	return b
}

// SendReceipt delivers receipt to the EC as the Nodo does (paSendRTV2) and returns its answer.
func (p *PagoPA) SendReceipt(ctx context.Context, org string, receipt pagopa.ReceiptV2) (pagopa.Response, error) {
	body, err := pagopa.Wrap(pagopa.ElemSendRTV2Request, pagopa.SendRTV2Request{Header: p.header(org), Receipt: receipt})
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

// header is the SOAP header of the Nodo's calls to the station of org.
func (p *PagoPA) header(org string) pagopa.Header {
	return pagopa.Header{IDPA: org, IDBrokerPA: p.Broker, IDStation: p.Station}
}

func newReceiptID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
