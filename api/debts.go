package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"

	"incasso/app/config"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
	"incasso/workflows"
)

// MaxAmount is the largest amount pagoPA accepts: 999,999,999.99 euro.
const MaxAmount = debts.MaxAmount

// Debtor is who owes the amount.
type Debtor struct {
	Type       string `json:"type"` // F natural person, G legal person
	FiscalCode string `json:"fiscalCode"`
	FullName   string `json:"fullName"`
	// Email may be empty when the debtor has a PEC or a postal address.
	Email string `json:"email"`
	// PEC is the debtor's certified email, when known: formal reminders go there.
	PEC string `json:"pec,omitempty"`
	// Address is where letters go: required when the debtor has neither email nor PEC, whose
	// notices are then printed and posted.
	Address *Address `json:"address,omitempty"`
}

// Address is a postal address in Italy.
type Address struct {
	Street     string `json:"street"`     // street and number
	PostalCode string `json:"postalCode"` // CAP, 5 digits
	City       string `json:"city"`
	Province   string `json:"province"` // 2 letters
}

func (a *Address) debts() debts.Address {
	if a == nil {
		return debts.Address{}
	}
	return debts.Address(*a)
}

func addressOf(d dbgen.DebtPosition) *Address {
	a := debts.AddressOf(d)
	if a.IsZero() {
		return nil
	}
	return (*Address)(&a)
}

// CreateDebtRequest is the body of POST /v1/debts.
type CreateDebtRequest struct {
	IUPD        string      `json:"iupd"`
	ServiceCode string      `json:"serviceCode"`
	Debtor      Debtor      `json:"debtor"`
	AmountCents money.Cents `json:"amountCents"`
	DueDate     string      `json:"dueDate"`
	Description string      `json:"description"`
	// NAV (or IUV) and GPDStatus take over a position of the previous platform, keeping its
	// notice number; without them incasso draws a new one.
	NAV       string `json:"nav,omitempty"`
	IUV       string `json:"iuv,omitempty"`
	GPDStatus string `json:"gpdStatus,omitempty"` // DRAFT, PUBLISHED or VALID
}

// validate normalises r, parses its due date and returns one FieldError per invalid field.
// Messages never repeat the values, which may be personal data.
func (r *CreateDebtRequest) validate(today date.Date, creditor config.Creditor, services config.Services) (debts.New, []FieldError) {
	n := debts.New{
		IUPD: r.IUPD, ServiceCode: r.ServiceCode, Amount: r.AmountCents, Description: r.Description,
		Debtor: debts.Debtor{Type: r.Debtor.Type, FiscalCode: r.Debtor.FiscalCode, FullName: r.Debtor.FullName,
			Email: r.Debtor.Email, PEC: r.Debtor.PEC, Address: r.Debtor.Address.debts()},
		NAV: r.NAV, IUV: r.IUV, GPDStatus: r.GPDStatus,
	}
	n.Normalize()
	n.DueDate, _ = date.Parse(r.DueDate) // zero when unreadable: reported below
	var errs []FieldError
	for _, fe := range n.Validate(today, creditor, services) {
		if fe.Message == debts.MissingDate {
			fe.Message = "required: a date as YYYY-MM-DD"
		}
		errs = append(errs, FieldError{Field: fe.Field, Message: fe.Message})
	}
	return n, errs
}

// adoptedField names the field that carried the notice number to adopt.
func adoptedField(r CreateDebtRequest) string {
	if r.NAV == "" {
		return "iuv"
	}
	return "nav"
}

// DebtResponse is a debt as the API shows it.
type DebtResponse struct {
	IUPD         string               `json:"iupd"`
	ServiceCode  string               `json:"serviceCode"`
	Status       workflows.DebtStatus `json:"status"`
	NoticeNumber string               `json:"noticeNumber"`
	IUV          string               `json:"iuv"`
	AmountCents  money.Cents          `json:"amountCents"`
	PaidCents    money.Cents          `json:"paidCents"`
	DueDate      date.Date            `json:"dueDate"`
	Description  string               `json:"description"`
	Debtor       Debtor               `json:"debtor"`
	// AdoptedGPDStatus is the GPD state of a position taken over from the previous platform.
	AdoptedGPDStatus string            `json:"adoptedGpdStatus,omitempty"`
	CreatedAt        time.Time         `json:"createdAt"`
	PaidAt           *time.Time        `json:"paidAt,omitempty"`
	Revision         int               `json:"revision"`
	PolicyVersion    *int              `json:"policyVersion,omitempty"` // the reminder policy it follows
	LadderStep       string            `json:"ladderStep,omitempty"`    // the last reminder step taken
	LadderStepAt     *time.Time        `json:"ladderStepAt,omitempty"`
	CancelReason     string            `json:"cancelReason,omitempty"`
	CancelledAt      *time.Time        `json:"cancelledAt,omitempty"`
	Changes          []Change          `json:"changes"`
	Receipts         []Receipt         `json:"receipts"`
	Communications   []Communication   `json:"communications"`
	WorkflowID       string            `json:"workflowId"`
	Links            map[string]string `json:"links"`
}

// Change is a change of amount or due date, which produced a revision of the notice.
type Change struct {
	Revision    int         `json:"revision"`
	AmountCents money.Cents `json:"amountCents"`
	DueDate     date.Date   `json:"dueDate"`
	Reason      string      `json:"reason"`
	ChangedAt   time.Time   `json:"changedAt"`
}

// Communication is a message sent to the debtor about the debt.
type Communication struct {
	Kind      string     `json:"kind"`
	Channel   string     `json:"channel"`
	Subject   string     `json:"subject"`
	MessageID string     `json:"messageId"`
	Status    string     `json:"status"`
	SentAt    *time.Time `json:"sentAt,omitempty"`
	SHA256    string     `json:"sha256"`
}

// decodeJSON reads the request body as exactly one JSON object with known fields into v.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return problem(http.StatusBadRequest, "the body is not valid JSON for this request: "+jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem(http.StatusBadRequest, "the body has data after the JSON object")
	}
	return nil
}

func (s *Server) createDebt(c echo.Context) error {
	var req CreateDebtRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	n, errs := req.validate(date.InRome(s.Now()), s.Config.Creditor, s.Config.Services)
	if len(errs) > 0 {
		return invalid(errs)
	}
	auditTarget(c, "iupd", n.IUPD)
	p := principalOf(c)
	if !p.MayUseService(n.ServiceCode) {
		return problem(http.StatusForbidden, "serviceCode: this API key may not create debts of service "+n.ServiceCode)
	}
	n.CreatedBy = p.Actor()
	debt, created, err := debts.Store(c.Request().Context(), dbgen.New(s.Pool), s.Config.Creditor, n)
	if err == nil && !p.Sees(debt.ServiceCode, debt.CreatedBy) {
		err = debts.ErrConflict // another client's debt: not shown, as if its data differed
	}
	if errors.Is(err, debts.ErrConflict) {
		return problem(http.StatusConflict, "iupd "+n.IUPD+" is already used by a different debt")
	}
	if errors.Is(err, debts.ErrNAVTaken) {
		return conflict(adoptedField(req), "the notice number is already used by another debt")
	}
	if err != nil {
		return err
	}
	// Started on every call, so a crash between storing and starting heals on the caller's retry.
	if err := debts.Start(c.Request().Context(), s.Temporal, s.Config.TaskQueue, debt); err != nil {
		s.Log.Error("start debt workflow", "debt_id", debt.ID, "err", err)
		return problem(http.StatusServiceUnavailable, "the debt is stored but its process could not start yet; retry the same request")
	}
	resp, err := s.debtResponse(c.Request().Context(), debt)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, "/v1/debts/"+debt.Iupd)
	}
	return c.JSON(status, resp)
}

func (s *Server) getDebt(c echo.Context) error {
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	return s.respondDebt(c, d)
}

func (s *Server) respondDebt(c echo.Context, d dbgen.DebtPosition) error {
	resp, err := s.debtResponse(c.Request().Context(), d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) debtByIUPD(c echo.Context) (dbgen.DebtPosition, error) {
	d, err := dbgen.New(s.Pool).GetDebtByIUPD(c.Request().Context(), dbgen.GetDebtByIUPDParams{
		EcFiscalCode: s.Config.Creditor.FiscalCode, Iupd: c.Param("iupd"),
	})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || err == nil && !principalOf(c).Sees(d.ServiceCode, d.CreatedBy) {
		return dbgen.DebtPosition{}, errNoDebt // out of an integration key's scope: the same answer
	}
	return d, err
}

// errNoDebt answers a debt that does not exist, or that the caller may not see.
var errNoDebt = problem(http.StatusNotFound, "no debt with this iupd")

func (s *Server) getNoticePDF(c echo.Context) error {
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	doc, err := dbgen.New(s.Pool).GetLatestDocument(c.Request().Context(), dbgen.GetLatestDocumentParams{DebtID: d.ID, Kind: "notice"})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return problem(http.StatusNotFound, "the notice has not been issued yet")
	} else if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="`+doc.Filename+`"`)
	return c.Stream(http.StatusOK, doc.ContentType, bytes.NewReader(doc.Content))
}

func (s *Server) debtResponse(ctx context.Context, d dbgen.DebtPosition) (DebtResponse, error) {
	q := dbgen.New(s.Pool)
	receipts, err := q.ListReceiptsByDebt(ctx, pgtype.Int8{Int64: d.ID, Valid: true})
	if err != nil {
		return DebtResponse{}, err
	}
	comms, err := q.ListCommunicationsByDebt(ctx, d.ID)
	if err != nil {
		return DebtResponse{}, err
	}
	changes, err := q.ListDebtChanges(ctx, d.ID)
	if err != nil {
		return DebtResponse{}, err
	}
	id := workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd)
	r := DebtResponse{
		IUPD: d.Iupd, ServiceCode: d.ServiceCode, Status: d.Status, NoticeNumber: d.Nav, IUV: d.Nav[1:],
		AmountCents: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate), Description: d.Description,
		Debtor: Debtor{Type: d.DebtorType, FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName, Email: d.DebtorEmail,
			PEC: d.DebtorPec, Address: addressOf(d)},
		AdoptedGPDStatus: d.GpdAdopted,
		LadderStep:       d.LadderStep, LadderStepAt: timePtr(d.LadderStepAt),
		CreatedAt: d.CreatedAt.Time, PaidAt: timePtr(d.PaidAt), WorkflowID: id,
		Revision: int(d.Revision), CancelReason: d.CancelReason.String, CancelledAt: timePtr(d.CancelledAt),
		Receipts: []Receipt{}, Communications: []Communication{}, Changes: []Change{},
		Links: map[string]string{"self": "/v1/debts/" + d.Iupd, "notice": "/v1/debts/" + d.Iupd + "/notice.pdf"},
	}
	if d.PolicyVersion.Valid {
		v := int(d.PolicyVersion.Int32)
		r.PolicyVersion = &v
	}
	if u := s.workflowURL(id); u != "" {
		r.Links["workflow"] = u
	}
	states, err := q.ListReceiptReconciliationByDebt(ctx, pgtype.Int8{Int64: d.ID, Valid: true})
	if err != nil {
		return DebtResponse{}, err
	}
	byReceipt := make(map[int64]*ReceiptReconciliation, len(states))
	for _, st := range states {
		byReceipt[st.ReceiptID] = &ReceiptReconciliation{Status: st.Status, Reason: st.Reason.String, FlowID: st.FlowID.String,
			FlowRevision: st.Revision.Int32, MatchedAt: timePtr(st.MatchedAt), ReconciledAt: timePtr(st.ReconciledAt)}
	}
	for _, rc := range receipts {
		if rc.Outcome == "OK" {
			r.PaidCents += money.Cents(rc.AmountCents)
		}
		view := receiptOf(rc)
		view.Reconciliation = byReceipt[rc.ID]
		r.Receipts = append(r.Receipts, view)
	}
	for _, ch := range changes {
		r.Changes = append(r.Changes, Change{
			Revision: int(ch.Revision), AmountCents: money.Cents(ch.AmountCents), DueDate: date.Of(ch.DueDate),
			Reason: ch.Reason, ChangedAt: ch.ChangedAt.Time,
		})
	}
	for _, cm := range comms {
		r.Communications = append(r.Communications, Communication{
			Kind: cm.Kind, Channel: cm.Channel, Subject: cm.Subject, MessageID: cm.MessageID, Status: cm.Status,
			SentAt: timePtr(cm.SentAt), SHA256: fmt.Sprintf("%x", cm.Sha256),
		})
	}
	return r, nil
}

func timePtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// jsonKind names the JSON type that decodes into a Go kind.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// jsonProblem describes a JSON decoding error by field and position, without echoing values.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "the body must be a JSON object"
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %s must be a JSON %s", typeErr.Field, jsonKind(typeErr.Type.Kind()))
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("syntax error at byte %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	default:
		return "malformed JSON"
	}
}
