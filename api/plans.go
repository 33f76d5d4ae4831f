package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/instalments"
	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/services/ibans"
	"incasso/workflows"
)

// PlanRequestBody is the body of POST /v1/debts/{iupd}/instalment-plan.
type PlanRequestBody struct {
	Instalments  int         `json:"instalments"`
	FirstDueDate string      `json:"firstDueDate,omitempty"` // default: end of the first month far enough ahead
	Mandate      MandateBody `json:"mandate"`
}

// MandateBody is the SEPA Core mandate the debtor signed.
type MandateBody struct {
	DebtorName string `json:"debtorName"`          // the account holder
	IBAN       string `json:"iban"`                // the account debited
	BIC        string `json:"bic,omitempty"`       // optional
	Reference  string `json:"reference,omitempty"` // the UMR; generated when empty
	SignedOn   string `json:"signedOn"`            // YYYY-MM-DD
}

// Plan is an instalment plan as the API shows it.
type Plan struct {
	ID          int64             `json:"id"`
	Status      string            `json:"status"`
	Instalments []PlanInstalment  `json:"instalments"`
	Collections []PlanCollection  `json:"collections"`
	Mandate     PlanMandate       `json:"mandate"`
	InterestBP  int               `json:"interestBasisPoints"`
	Remainder   *PlanRemainder    `json:"remainder,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
	EndedAt     *time.Time        `json:"endedAt,omitempty"`
	Links       map[string]string `json:"links"`
}

// PlanInstalment is one instalment and how far it got.
type PlanInstalment struct {
	Seq          int         `json:"seq"`
	AmountCents  money.Cents `json:"amountCents"`
	DueDate      date.Date   `json:"dueDate"`
	NoticeNumber string      `json:"noticeNumber"`
	Status       string      `json:"status"`
	ReasonCode   string      `json:"reasonCode,omitempty"`
	PaidAt       *time.Time  `json:"paidAt,omitempty"`
}

// PlanCollection is one presentation of an instalment to the bank.
type PlanCollection struct {
	Seq              int         `json:"seq"`
	Attempt          int         `json:"attempt"`
	EndToEndID       string      `json:"endToEndId"`
	CollectionDate   date.Date   `json:"collectionDate"`
	AmountCents      money.Cents `json:"amountCents"`
	SequenceType     string      `json:"sequenceType,omitempty"`
	Status           string      `json:"status"`
	ReasonCode       string      `json:"reasonCode,omitempty"`
	MandateReference string      `json:"mandateReference,omitempty"`
}

// PlanMandate is the mandate the plan collects with; the IBAN is masked.
type PlanMandate struct {
	Reference string    `json:"reference"`
	IBAN      string    `json:"iban"`
	SignedOn  date.Date `json:"signedOn"`
}

// PlanRemainder is what the plan did not collect, now owed on another debt.
type PlanRemainder struct {
	AmountCents money.Cents `json:"amountCents"`
	IUPD        string      `json:"iupd,omitempty"`
}

var bicPattern = regexp.MustCompile(`^[A-Z0-9]{8}([A-Z0-9]{3})?$`)

// mandateAge is how old a mandate may be: one unused for 36 months has expired.
const mandateAge = 36

// validateMandate checks the mandate fields, naming each field under prefix.
func (s *Server) validateMandate(m *MandateBody, prefix string) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{Field: prefix + field, Message: msg}) }
	m.DebtorName = strings.TrimSpace(m.DebtorName)
	m.IBAN, m.BIC, m.Reference = sepa.NormalizeIBAN(m.IBAN), strings.ToUpper(strings.TrimSpace(m.BIC)), strings.TrimSpace(m.Reference)
	if n := utf8.RuneCountInString(sepa.Transliterate(m.DebtorName)); n < 1 || n > 70 {
		add("debtorName", "required, at most 70 characters")
	}
	if err := sepa.ValidateIBAN(m.IBAN); err != nil {
		add("iban", err.Error())
	}
	if m.BIC != "" && !bicPattern.MatchString(m.BIC) {
		add("bic", "8 or 11 letters and digits")
	}
	if m.Reference != "" {
		if err := sepa.ValidateMandateID(m.Reference); err != nil {
			add("reference", err.Error())
		}
	}
	signed, err := date.Parse(m.SignedOn)
	today := date.InRome(s.Now())
	switch {
	case err != nil:
		add("signedOn", "required: a date as YYYY-MM-DD")
	case today.Before(signed):
		add("signedOn", "must not be in the future")
	case signed.Before(date.Of(today.Time().AddDate(0, -mandateAge, 0))):
		add("signedOn", fmt.Sprintf("a mandate older than %d months has expired: sign a new one", mandateAge))
	}
	return errs
}

// storeMandate stores the debtor's mandate for debt d, or finds the same one stored before.
func (s *Server) storeMandate(c echo.Context, d dbgen.DebtPosition, m MandateBody) (dbgen.SddMandate, error) {
	ctx := c.Request().Context()
	q := dbgen.New(s.Pool)
	signed, _ := date.Parse(m.SignedOn) // validated
	ref := m.Reference
	if ref == "" {
		n, err := q.CountMandates(ctx, d.ID)
		if err != nil {
			return dbgen.SddMandate{}, err
		}
		ref = sepa.NewMandateID(fmt.Sprint(d.ID%10_000_000_000), n+1)
	}
	vault := ibans.Vault{Ring: s.Config.SDD.IBANKeys}
	iban := vault.Seal(ref, m.IBAN)
	row := dbgen.InsertMandateParams{DebtID: d.ID, Reference: ref, DebtorName: sepa.Transliterate(m.DebtorName),
		Iban: iban.Plain, IbanSealed: iban.Sealed, IbanKeyID: iban.KeyID, Bic: m.BIC, SignedOn: signed.Time()}
	stored, err := q.InsertMandate(ctx, row)
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		if stored, err = q.GetMandateByReference(ctx, ref); err != nil {
			return stored, err
		}
		storedIBAN, err := vault.Mandate(stored)
		if err != nil {
			return stored, err
		}
		same := stored.DebtID == row.DebtID && storedIBAN == m.IBAN && stored.DebtorName == row.DebtorName &&
			stored.Bic == row.Bic && stored.SignedOn.Equal(row.SignedOn)
		if !same {
			return stored, invalid([]FieldError{{Field: "mandate.reference", Message: "already used by another mandate"}})
		}
	}
	return stored, err
}

func (s *Server) requestPlan(c echo.Context) error {
	var req PlanRequestBody
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	errs := s.validateMandate(&req.Mandate, "mandate.")
	var first date.Date
	if req.FirstDueDate != "" {
		var err error
		if first, err = date.Parse(req.FirstDueDate); err != nil {
			errs = append(errs, FieldError{Field: "firstDueDate", Message: "a date as YYYY-MM-DD"})
		}
	}
	if req.Instalments < 2 || req.Instalments > instalments.MaxInstalments {
		errs = append(errs, FieldError{Field: "instalments", Message: fmt.Sprintf("from 2 to %d", instalments.MaxInstalments)})
	}
	if len(errs) > 0 {
		return invalid(errs)
	}
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	if err := s.Config.SDD.Eligibility.Check(money.Cents(d.AmountCents), req.Instalments); err != nil {
		return invalid([]FieldError{{Field: "instalments", Message: err.Error()}})
	}
	switch d.Status {
	case workflows.StatusIssued, workflows.StatusOverdue:
	case workflows.StatusInstalments:
		return problem(http.StatusConflict, "the debt is being paid in instalments already")
	default:
		return problem(http.StatusConflict, "the debt is "+strings.ToLower(string(d.Status))+": it cannot be paid in instalments")
	}
	mandate, err := s.storeMandate(c, d, req.Mandate)
	if err != nil {
		return err
	}
	err = s.runUpdate(c, d, workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd), workflows.UpdateRequestPlan, nil,
		workflows.PlanRequest{Instalments: req.Instalments, FirstDueDate: first, MandateID: mandate.ID})
	if err != nil {
		return err
	}
	return s.respondPlan(c, d, http.StatusCreated)
}

func (s *Server) getPlan(c echo.Context) error {
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	return s.respondPlan(c, d, http.StatusOK)
}

func (s *Server) suspendPlan(c echo.Context) error {
	return s.updatePlan(c, workflows.UpdateSuspendPlan)
}

func (s *Server) resumePlan(c echo.Context) error {
	return s.updatePlan(c, workflows.UpdateResumePlan)
}

// replaceMandate takes the debtor's new mandate (a new account) for the next collections.
func (s *Server) replaceMandate(c echo.Context) error {
	var m MandateBody
	if err := decodeJSON(c, &m); err != nil {
		return err
	}
	if errs := s.validateMandate(&m, ""); len(errs) > 0 {
		return invalid(errs)
	}
	d, err := s.planDebt(c)
	if err != nil {
		return err
	}
	mandate, err := s.storeMandate(c, d, m)
	if err != nil {
		return err
	}
	return s.updatePlan(c, workflows.UpdateReplaceMandate, mandate.ID)
}

// planDebt is the debt of the request's path, which must have a running plan.
func (s *Server) planDebt(c echo.Context) (dbgen.DebtPosition, error) {
	d, err := s.debtByIUPD(c)
	if err == nil && d.Status != workflows.StatusInstalments {
		err = problem(http.StatusConflict, "the debt has no running instalment plan")
	}
	return d, err
}

func (s *Server) updatePlan(c echo.Context, name string, args ...any) error {
	d, err := s.planDebt(c)
	if err != nil {
		return err
	}
	if err := s.runUpdate(c, d, workflows.PlanWorkflowID(d.EcFiscalCode, d.Iupd), name, nil, args...); err != nil {
		return err
	}
	return s.respondPlan(c, d, http.StatusOK)
}

// respondPlan answers with the debt's plan as the database has it.
func (s *Server) respondPlan(c echo.Context, d dbgen.DebtPosition, status int) error {
	p, err := s.planOf(c.Request().Context(), d)
	if errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "the debt has no instalment plan")
	} else if err != nil {
		return err
	}
	return c.JSON(status, p)
}

// planOf is the debt's plan as the database has it (its mandate's IBAN masked), or
// db.ErrNotFound.
func (s *Server) planOf(ctx context.Context, d dbgen.DebtPosition) (Plan, error) {
	q := dbgen.New(s.Pool)
	plan, err := q.GetPlanByDebt(ctx, d.ID)
	if err != nil {
		return Plan{}, db.NotFound(err)
	}
	insts, err := q.ListInstalments(ctx, plan.ID)
	if err != nil {
		return Plan{}, err
	}
	colls, err := q.ListPlanCollections(ctx, plan.ID)
	if err != nil {
		return Plan{}, err
	}
	mandate, err := q.GetMandate(ctx, plan.MandateID)
	if err != nil {
		return Plan{}, err
	}
	masked, err := ibans.Vault{Ring: s.Config.SDD.IBANKeys}.Masked(mandate)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{
		ID: plan.ID, Status: plan.Status, InterestBP: int(plan.InterestBp), CreatedAt: plan.CreatedAt.Time,
		EndedAt:     timePtr(plan.EndedAt),
		Mandate:     PlanMandate{Reference: mandate.Reference, IBAN: masked, SignedOn: date.Of(mandate.SignedOn)},
		Instalments: []PlanInstalment{}, Collections: []PlanCollection{},
		Links: map[string]string{"self": "/v1/debts/" + d.Iupd + "/instalment-plan", "debt": "/v1/debts/" + d.Iupd},
	}
	if u := s.workflowURL(workflows.PlanWorkflowID(d.EcFiscalCode, d.Iupd)); u != "" {
		p.Links["workflow"] = u
	}
	if plan.RemainderCents.Valid && plan.RemainderCents.Int64 > 0 {
		p.Remainder = &PlanRemainder{AmountCents: money.Cents(plan.RemainderCents.Int64)}
		if plan.RemainderDebtID.Valid {
			if rest, err := q.GetDebt(ctx, plan.RemainderDebtID.Int64); err == nil {
				p.Remainder.IUPD = rest.Iupd
				p.Links["remainder"] = "/v1/debts/" + rest.Iupd
			}
		}
	}
	for _, in := range insts {
		p.Instalments = append(p.Instalments, PlanInstalment{
			Seq: int(in.Seq), AmountCents: money.Cents(in.AmountCents), DueDate: date.Of(in.DueDate), NoticeNumber: in.Nav,
			Status: in.Status, ReasonCode: in.ReasonCode, PaidAt: timePtr(in.PaidAt),
		})
	}
	for _, col := range colls {
		p.Collections = append(p.Collections, PlanCollection{
			Seq: int(col.Seq), Attempt: int(col.Attempt), EndToEndID: col.EndToEndID, CollectionDate: date.Of(col.CollectionDate),
			AmountCents: money.Cents(col.AmountCents), SequenceType: col.SequenceType.String, Status: col.Status,
			ReasonCode: col.ReasonCode, MandateReference: col.MandateReference.String,
		})
	}
	return p, nil
}
