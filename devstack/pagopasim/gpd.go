package pagopasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"incasso/clients/gpd"
	"incasso/devstack/internal/jsonhttp"
	"incasso/domain/pagopa"
)

// Position statuses the simulator uses. Paying a single option pays the position; marking
// partial options (instalments) paid one by one makes it PARTIALLY_PAID until the last.
const (
	statusDraft         = "DRAFT"
	statusValid         = "VALID"
	statusPartiallyPaid = "PARTIALLY_PAID"
	statusPaid          = "PAID"
	statusInvalid       = "INVALID"
	statusExpired       = "EXPIRED"
)

func key(org, id string) string { return org + "/" + id }

func (p *PagoPA) createPosition(w http.ResponseWriter, r *http.Request) {
	org := r.PathValue("org")
	pos, ok := decodePosition(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.positions[key(org, pos.IUPD)]; ok {
		problem(w, http.StatusConflict, "Conflict: debt position already exists")
		return
	}
	if msg := p.assignNAVs(org, &pos); msg != "" {
		problem(w, http.StatusConflict, msg)
		return
	}
	p.store(org, &pos, r)
	jsonhttp.Write(w, http.StatusCreated, pos)
}

func (p *PagoPA) getPosition(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	pos, ok := p.position(key(r.PathValue("org"), r.PathValue("iupd")))
	var cp gpd.Position
	if ok {
		cp = *pos
	}
	p.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "Not found: debt position")
		return
	}
	jsonhttp.Write(w, http.StatusOK, cp)
}

// updatePosition replaces a position that is neither paid nor invalid, options included.
func (p *PagoPA) updatePosition(w http.ResponseWriter, r *http.Request) {
	org, iupd := r.PathValue("org"), r.PathValue("iupd")
	pos, ok := decodePosition(w, r)
	if !ok {
		return
	}
	if pos.IUPD != iupd {
		problem(w, http.StatusBadRequest, "iupd of the body differs from the path")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.position(key(org, iupd))
	switch {
	case !ok:
		problem(w, http.StatusNotFound, "Not found: debt position")
		return
	case old.Status != statusDraft && old.Status != statusValid:
		problem(w, http.StatusConflict, "Conflict: debt position is "+old.Status+" and cannot be updated")
		return
	}
	if msg := p.assignNAVs(org, &pos); msg != "" {
		problem(w, http.StatusConflict, msg)
		return
	}
	for _, opt := range old.PaymentOptions {
		delete(p.notices, key(org, opt.NAV))
	}
	p.store(org, &pos, r)
	jsonhttp.Write(w, http.StatusOK, pos)
}

func (p *PagoPA) invalidatePosition(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos, ok := p.position(key(r.PathValue("org"), r.PathValue("iupd")))
	switch {
	case !ok:
		problem(w, http.StatusNotFound, "Not found: debt position")
	case pos.Status == statusPaid || pos.Status == statusInvalid:
		problem(w, http.StatusConflict, "Conflict: debt position is "+pos.Status)
	default:
		pos.Status = statusInvalid
		jsonhttp.Write(w, http.StatusOK, pos)
	}
}

// markPaidOutside is POST .../paymentoptions/paids/{nav}: the notice was paid outside pagoPA.
func (p *PagoPA) markPaidOutside(w http.ResponseWriter, r *http.Request) {
	var paid gpd.Paid
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&paid); err != nil && !errors.Is(err, io.EOF) {
		problem(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	org, nav := r.PathValue("org"), r.PathValue("nav")
	p.mu.Lock()
	defer p.mu.Unlock()
	pos, ok := p.position(p.notices[key(org, nav)])
	switch {
	case !ok:
		problem(w, http.StatusNotFound, "Not found: payment option")
	case pos.Status == statusPaid || p.paidOptions[key(org, nav)]:
		problem(w, http.StatusConflict, "Conflict: payment option already paid")
	case pos.Status == statusInvalid:
		problem(w, http.StatusUnprocessableEntity, "Unprocessable: debt position is INVALID, not in payable state")
	default:
		p.paidOptions[key(org, nav)] = true
		pos.Status = statusPaid
		for _, opt := range pos.PaymentOptions {
			if opt.IsPartialPayment && !p.paidOptions[key(org, opt.NAV)] {
				pos.Status = statusPartiallyPaid
			}
		}
		jsonhttp.Write(w, http.StatusOK, struct {
			gpd.PaymentOption
			gpd.Paid
			Status string `json:"status"`
		}{option(pos, nav), paid, "PO_PAID"})
	}
}

// position returns the position stored under k, EXPIRED once its due dates have passed if
// it asked to expire. The caller holds p.mu.
func (p *PagoPA) position(k string) (*gpd.Position, bool) {
	pos, ok := p.positions[k]
	if !ok {
		return nil, false
	}
	if pos.Status == statusValid && pos.SwitchToExpired {
		expired := true
		for _, opt := range pos.PaymentOptions {
			expired = expired && time.Now().After(opt.DueDate)
		}
		if expired {
			pos.Status = statusExpired
		}
	}
	return pos, true
}

// option returns the option of pos whose notice is nav.
func option(pos *gpd.Position, nav string) gpd.PaymentOption {
	for _, o := range pos.PaymentOptions {
		if o.NAV == nav {
			return o
		}
	}
	return pos.PaymentOptions[0]
}

// assignNAVs gives each option of pos its notice number (aux digit 3 + IUV), as GPD does, and
// returns a conflict if another position of org holds one. The caller holds p.mu.
func (p *PagoPA) assignNAVs(org string, pos *gpd.Position) string {
	for i := range pos.PaymentOptions {
		opt := &pos.PaymentOptions[i]
		opt.NAV = pagopa.AuxDigit + opt.IUV
		if owner, ok := p.notices[key(org, opt.NAV)]; ok && owner != key(org, pos.IUPD) {
			return "Conflict: IUV " + opt.IUV + " already used"
		}
	}
	return ""
}

// store keeps pos for org, VALID when the request asks to publish it, else DRAFT. The caller
// holds p.mu.
func (p *PagoPA) store(org string, pos *gpd.Position, r *http.Request) {
	pos.Status = statusDraft
	if r.URL.Query().Get("toPublish") == "true" {
		pos.Status = statusValid
	}
	p.positions[key(org, pos.IUPD)] = pos
	for _, opt := range pos.PaymentOptions {
		p.notices[key(org, opt.NAV)] = key(org, pos.IUPD)
	}
}

// decodePosition reads and validates the position of a request, answering 400 if it cannot.
func decodePosition(w http.ResponseWriter, r *http.Request) (gpd.Position, bool) {
	var pos gpd.Position
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&pos); err != nil {
		problem(w, http.StatusBadRequest, "malformed JSON")
		return pos, false
	}
	if msg := validatePosition(pos); msg != "" {
		problem(w, http.StatusBadRequest, msg)
		return pos, false
	}
	return pos, true
}

var ibanPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,35}$`)

// validatePosition applies the constraints of gpd-debt-positions-v1.json and of GPD's
// business rules that matter here, and names the field that breaks one.
func validatePosition(pos gpd.Position) string {
	switch {
	case pos.IUPD == "" || pos.FiscalCode == "" || pos.FullName == "" || pos.CompanyName == "":
		return "iupd, fiscalCode, fullName and companyName are required"
	case utf8.RuneCountInString(pos.CompanyName) > 140:
		return "companyName: at most 140 characters"
	case pos.Type != "F" && pos.Type != "G":
		return "type must be F or G"
	case len(pos.PaymentOptions) == 0:
		return "at least one paymentOption is required"
	}
	iuvs := map[string]bool{}
	for i, opt := range pos.PaymentOptions {
		field := fmt.Sprintf("paymentOption[%d]", i)
		switch {
		case len(opt.IUV) != 17 || iuvs[opt.IUV]:
			return field + ".iuv: 17 digits, not repeated"
		case opt.Amount < 1:
			return field + ".amount must be >= 1"
		case utf8.RuneCountInString(opt.Description) > 140:
			return field + ".description: at most 140 characters"
		case opt.DueDate.IsZero():
			return field + ".dueDate is required"
		case len(opt.Transfers) < 1 || len(opt.Transfers) > gpd.MaxTransfers:
			return field + ".transfer: 1 to 5 transfers"
		}
		iuvs[opt.IUV] = true
		ids := map[string]bool{}
		var sum int64
		for j, t := range opt.Transfers {
			field := fmt.Sprintf("%s.transfer[%d]", field, j)
			switch {
			case len(t.IDTransfer) != 1 || t.IDTransfer < "1" || t.IDTransfer > "5" || ids[t.IDTransfer]:
				return field + `.idTransfer: "1" to "5", not repeated`
			case t.Amount < 1:
				return field + ".amount must be >= 1"
			case t.Category == "":
				return field + ".category is required"
			case utf8.RuneCountInString(t.RemittanceInformation) > 140:
				return field + ".remittanceInformation: at most 140 characters"
			case t.IBAN != "" && !ibanPattern.MatchString(t.IBAN):
				return field + ".iban: 1 to 35 letters and digits"
			}
			ids[t.IDTransfer] = true
			sum += t.Amount
		}
		if sum != opt.Amount {
			return field + ": transfers do not sum to the amount"
		}
	}
	return ""
}
