package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	enumspb "go.temporal.io/api/enums/v1"

	"incasso/date"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/fiscalcode"
	"incasso/internal/chars"
	"incasso/money"
	"incasso/pagopa"
	"incasso/positions"
	"incasso/workflows"
)

// MaxAmount is the largest amount pagoPA accepts: 999,999,999.99 euro.
const MaxAmount money.Cents = 99_999_999_999

// Debtor is who owes the amount.
type Debtor struct {
	Type       string `json:"type"` // F natural person, G legal person
	FiscalCode string `json:"fiscalCode"`
	FullName   string `json:"fullName"`
	Email      string `json:"email"`
	// PEC is the debtor's certified email, when known: formal reminders go there.
	PEC string `json:"pec,omitempty"`
}

// CreateDebtRequest is the body of POST /v1/debts.
type CreateDebtRequest struct {
	IUPD        string      `json:"iupd"`
	ServiceCode string      `json:"serviceCode"`
	Debtor      Debtor      `json:"debtor"`
	AmountCents money.Cents `json:"amountCents"`
	DueDate     string      `json:"dueDate"`
	Description string      `json:"description"`
}

var (
	iupdPattern  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,35}$`)
	emailPattern = regexp.MustCompile(`^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$`) // paForNode stEMail
)

// validate normalises r and returns one FieldError per invalid field. Messages never repeat
// the values, which may be personal data.
func (r *CreateDebtRequest) validate(today date.Date, serviceKnown func(string) bool) (date.Date, []FieldError) {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	r.Debtor.FiscalCode = fiscalcode.Normalize(r.Debtor.FiscalCode)
	r.Debtor.FullName = strings.TrimSpace(r.Debtor.FullName)
	r.Debtor.Email = strings.TrimSpace(r.Debtor.Email)
	r.Description = strings.TrimSpace(r.Description)

	if !iupdPattern.MatchString(r.IUPD) {
		add("iupd", "required: 1 to 35 characters among A-Z a-z 0-9 . _ - (an opaque key: no personal data)")
	}
	if !serviceKnown(r.ServiceCode) {
		add("serviceCode", "unknown service code")
	}
	if r.Debtor.Type != "F" && r.Debtor.Type != "G" {
		add("debtor.type", "must be F (natural person) or G (legal person)")
	}
	if _, err := fiscalcode.Validate(r.Debtor.FiscalCode); err != nil {
		add("debtor.fiscalCode", "not a valid codice fiscale: "+strings.TrimPrefix(err.Error(), fiscalcode.ErrInvalid.Error()+": "))
	}
	if n := utf8.RuneCountInString(r.Debtor.FullName); n < 1 || n > 70 || !chars.Printable(r.Debtor.FullName) {
		add("debtor.fullName", "required, at most 70 printable characters on one line")
	}
	r.Debtor.PEC = strings.TrimSpace(r.Debtor.PEC)
	if !plainEmail(r.Debtor.Email) {
		add("debtor.email", "required: a plain email address such as nome@example.it")
	}
	if r.Debtor.PEC != "" && !plainEmail(r.Debtor.PEC) {
		add("debtor.pec", "a plain PEC address such as nome@pec.example.it, or nothing")
	}
	if r.AmountCents < 1 || r.AmountCents > MaxAmount {
		add("amountCents", fmt.Sprintf("must be an integer number of cents from 1 to %d", MaxAmount))
	}
	due, err := date.Parse(r.DueDate)
	switch {
	case err != nil:
		add("dueDate", "required: a date as YYYY-MM-DD")
	case due.Before(today):
		add("dueDate", "must not be in the past")
	}
	if n := utf8.RuneCountInString(r.Description); n < 1 || n > 140 || !chars.Printable(r.Description) {
		add("description", "required, at most 140 printable characters on one line")
	}
	return due, errs
}

// plainEmail accepts a bare address of at most 256 characters, as paForNode's stEMail.
func plainEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && emailPattern.MatchString(s) && len(s) <= 256
}

// DebtResponse is a debt as the API shows it.
type DebtResponse struct {
	IUPD           string            `json:"iupd"`
	ServiceCode    string            `json:"serviceCode"`
	Status         string            `json:"status"`
	NoticeNumber   string            `json:"noticeNumber"`
	IUV            string            `json:"iuv"`
	AmountCents    money.Cents       `json:"amountCents"`
	PaidCents      money.Cents       `json:"paidCents"`
	DueDate        date.Date         `json:"dueDate"`
	Description    string            `json:"description"`
	Debtor         Debtor            `json:"debtor"`
	CreatedAt      time.Time         `json:"createdAt"`
	PaidAt         *time.Time        `json:"paidAt,omitempty"`
	Revision       int               `json:"revision"`
	PolicyVersion  *int              `json:"policyVersion,omitempty"` // the reminder policy it follows
	LadderStep     string            `json:"ladderStep,omitempty"`    // the last reminder step taken
	LadderStepAt   *time.Time        `json:"ladderStepAt,omitempty"`
	CancelReason   string            `json:"cancelReason,omitempty"`
	CancelledAt    *time.Time        `json:"cancelledAt,omitempty"`
	Changes        []Change          `json:"changes"`
	Receipts       []Receipt         `json:"receipts"`
	Communications []Communication   `json:"communications"`
	WorkflowID     string            `json:"workflowId"`
	Links          map[string]string `json:"links"`
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
	due, errs := req.validate(date.InRome(s.Now()), func(code string) bool { _, ok := s.Config.Services.Find(code); return ok })
	errs = append(errs, s.checkSplit(req.ServiceCode, req.AmountCents)...)
	if len(errs) > 0 {
		return invalid(errs)
	}
	ctx := c.Request().Context()
	q := dbgen.New(s.Pool)
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: s.Config.Creditor.FiscalCode, Segregation: int32(s.Config.Creditor.Segregation)})
	if err != nil {
		return fmt.Errorf("draw IUV base: %w", err)
	}
	nav, err := pagopa.NewNAV(s.Config.Creditor.Segregation, base)
	if err != nil {
		return err
	}
	ec := s.Config.Creditor.FiscalCode
	created := true
	debt, err := q.CreateDebt(ctx, dbgen.CreateDebtParams{
		EcFiscalCode: ec, Iupd: req.IUPD, ServiceCode: req.ServiceCode,
		DebtorType: req.Debtor.Type, DebtorFiscalCode: req.Debtor.FiscalCode, DebtorName: req.Debtor.FullName,
		DebtorEmail: req.Debtor.Email, AmountCents: int64(req.AmountCents), DueDate: due.Time(),
		Description: req.Description, Nav: nav.String(), DebtorPec: req.Debtor.PEC,
	})
	if errors.Is(db.NotFound(err), db.ErrNotFound) { // the iupd exists: same debt, or a conflict
		created = false
		debt, err = q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: ec, Iupd: req.IUPD})
		if err == nil && !sameDebt(debt, req, due) {
			return problem(http.StatusConflict, "iupd "+req.IUPD+" is already used by a different debt")
		}
	}
	if err != nil {
		return fmt.Errorf("store debt: %w", err)
	}
	// Started on every call, so a crash between storing and starting heals on the caller's retry.
	if err := s.startDebtWorkflow(c, debt); err != nil {
		return err
	}
	resp, err := s.debtResponse(c, debt)
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

// checkSplit reports an amount too small to give every beneficiary of the service a cent,
// which GPD would refuse. An unknown service or an amount out of range is reported elsewhere.
func (s *Server) checkSplit(serviceCode string, amount money.Cents) []FieldError {
	service, ok := s.Config.Services.Find(serviceCode)
	if !ok || amount < 1 || amount > MaxAmount {
		return nil
	}
	if _, err := positions.Transfers(s.Config.Creditor, service, int64(amount), ""); err != nil {
		return []FieldError{{"amountCents", fmt.Sprintf("too small to split among the %d beneficiaries of service %s", len(service.Transfers), serviceCode)}}
	}
	return nil
}

func sameDebt(d dbgen.DebtPosition, r CreateDebtRequest, due date.Date) bool {
	return d.ServiceCode == r.ServiceCode && d.DebtorType == r.Debtor.Type &&
		d.DebtorFiscalCode == r.Debtor.FiscalCode && d.DebtorName == r.Debtor.FullName &&
		d.DebtorEmail == r.Debtor.Email && d.DebtorPec == r.Debtor.PEC && d.AmountCents == int64(r.AmountCents) &&
		date.Of(d.DueDate) == due && d.Description == r.Description
}

func (s *Server) startDebtWorkflow(c echo.Context, d dbgen.DebtPosition) error {
	_, err := s.Temporal.ExecuteWorkflow(c.Request().Context(), client.StartWorkflowOptions{
		ID:                       workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd),
		TaskQueue:                s.Config.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchDebtStatus.ValueSet(workflows.StatusCreated),
			workflows.SearchServiceCode.ValueSet(d.ServiceCode),
		),
		StaticSummary: fmt.Sprintf("%s debt %s, %s euro due %s", d.ServiceCode, d.Iupd, money.Cents(d.AmountCents).Italian(), date.Of(d.DueDate)),
	}, workflows.Debt, workflows.DebtInput{
		DebtID: d.ID, ECFiscalCode: d.EcFiscalCode, IUPD: d.Iupd, ServiceCode: d.ServiceCode,
		Amount: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate),
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) { // already started and closed: its life is over
		s.Log.Error("start debt workflow", "debt_id", d.ID, "err", err)
		return problem(http.StatusServiceUnavailable, "the debt is stored but its process could not start yet; retry the same request")
	}
	return nil
}

func (s *Server) getDebt(c echo.Context) error {
	d, err := s.debtByIUPD(c)
	if err != nil {
		return err
	}
	return s.respondDebt(c, d)
}

func (s *Server) respondDebt(c echo.Context, d dbgen.DebtPosition) error {
	resp, err := s.debtResponse(c, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) debtByIUPD(c echo.Context) (dbgen.DebtPosition, error) {
	d, err := dbgen.New(s.Pool).GetDebtByIUPD(c.Request().Context(), dbgen.GetDebtByIUPDParams{
		EcFiscalCode: s.Config.Creditor.FiscalCode, Iupd: c.Param("iupd"),
	})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return d, problem(http.StatusNotFound, "no debt with this iupd")
	}
	return d, err
}

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

func (s *Server) debtResponse(c echo.Context, d dbgen.DebtPosition) (DebtResponse, error) {
	ctx := c.Request().Context()
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
		Debtor:     Debtor{Type: d.DebtorType, FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName, Email: d.DebtorEmail, PEC: d.DebtorPec},
		LadderStep: d.LadderStep, LadderStepAt: timePtr(d.LadderStepAt),
		CreatedAt: d.CreatedAt.Time, PaidAt: timePtr(d.PaidAt), WorkflowID: id,
		Revision: int(d.Revision), CancelReason: d.CancelReason.String, CancelledAt: timePtr(d.CancelledAt),
		Receipts: []Receipt{}, Communications: []Communication{}, Changes: []Change{},
		Links: map[string]string{"self": "/v1/debts/" + d.Iupd, "notice": "/v1/debts/" + d.Iupd + "/notice.pdf"},
	}
	if d.PolicyVersion.Valid {
		v := int(d.PolicyVersion.Int32)
		r.PolicyVersion = &v
	}
	if s.TemporalUIURL != "" {
		r.Links["workflow"] = fmt.Sprintf("%s/namespaces/%s/workflows/%s", s.TemporalUIURL, s.Config.TemporalNamespace, id)
	}
	for _, rc := range receipts {
		if rc.Outcome == "OK" {
			r.PaidCents += money.Cents(rc.AmountCents)
		}
		r.Receipts = append(r.Receipts, receiptOf(rc))
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
