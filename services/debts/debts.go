// Package debts creates credit positions, whoever asks: the REST API one at a time, a
// campaign thousands at once. A new debt is validated field by field, stored with a notice
// number drawn from the creditor's sequence, or the one it brings from the previous platform
// (idempotently on its iupd), and given its Debt workflow, started idempotently too.
package debts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	enumspb "go.temporal.io/api/enums/v1"

	"incasso/app/config"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/fiscalcode"
	"incasso/domain/money"
	"incasso/domain/pagopa"
	"incasso/services/positions"
	"incasso/workflows"
)

// MaxAmount is the largest amount pagoPA accepts: 999,999,999.99 euro.
const MaxAmount money.Cents = 99_999_999_999

// Debtor is who owes the amount.
type Debtor struct {
	Type       string // F natural person, G legal person
	FiscalCode string
	FullName   string
	Email      string // optional when the debtor has a PEC or a postal address
	PEC        string // certified email, optional: formal reminders go there
	// Address is where letters go; required when the debtor has neither email nor PEC.
	Address Address
}

// New is a debt to create.
type New struct {
	IUPD        string // the caller's key of the debt: unique per creditor, no personal data
	ServiceCode string
	Debtor      Debtor
	Amount      money.Cents
	DueDate     date.Date // zero when missing or unreadable
	Description string
	CampaignID  int64 // zero when the debt is not part of a campaign
	// CreatedBy is the actor (access.Principal.Actor) that created it through the API; empty
	// for campaigns. An integration key reads only the debts it created.
	CreatedBy string

	// A position taken over from the previous platform keeps its notice number: NAV, or IUV
	// (the NAV without its aux digit), and the state it has in GPD (GPDStatus). Empty for a
	// new position, whose notice number incasso draws.
	NAV, IUV  string
	GPDStatus string
}

// FieldError says what is wrong with one field. Field is named as in the REST API (iupd,
// serviceCode, debtor.fiscalCode...); Message never repeats the value, which may be personal.
type FieldError struct {
	Field   string
	Message string
}

// Normalize trims the texts and writes the fiscal code in capitals without spaces.
func (n *New) Normalize() {
	n.Debtor.FiscalCode = fiscalcode.Normalize(n.Debtor.FiscalCode)
	n.Debtor.FullName = strings.TrimSpace(n.Debtor.FullName)
	n.Debtor.Email = strings.TrimSpace(n.Debtor.Email)
	n.Debtor.PEC = strings.TrimSpace(n.Debtor.PEC)
	n.Description = strings.TrimSpace(n.Description)
	n.Debtor.Address.normalize()
	n.NAV, n.IUV = strings.TrimSpace(n.NAV), strings.TrimSpace(n.IUV)
	n.GPDStatus = strings.ToUpper(strings.TrimSpace(n.GPDStatus))
}

// Validate returns one FieldError per invalid field of a normalised debt: today decides which
// due dates are past, and the amount must split among the service's beneficiaries.
func (n New) Validate(today date.Date, creditor config.Creditor, services config.Services) []FieldError {
	var errs []FieldError
	add := func(field, msg string) { errs = append(errs, FieldError{field, msg}) }
	if !ValidIUPD(n.IUPD) {
		add("iupd", "required: 1 to 35 characters among A-Z a-z 0-9 . _ - (an opaque key: no personal data)")
	}
	service, known := services.Find(n.ServiceCode)
	if !known {
		add("serviceCode", "unknown service code")
	}
	if n.Debtor.Type != "F" && n.Debtor.Type != "G" {
		add("debtor.type", "must be F (natural person) or G (legal person)")
	}
	if _, err := fiscalcode.Validate(n.Debtor.FiscalCode); err != nil {
		add("debtor.fiscalCode", "not a valid codice fiscale: "+strings.TrimPrefix(err.Error(), fiscalcode.ErrInvalid.Error()+": "))
	}
	if c := utf8.RuneCountInString(n.Debtor.FullName); c < 1 || c > 70 || !chars.Printable(n.Debtor.FullName) {
		add("debtor.fullName", "required, at most 70 printable characters on one line")
	}
	switch {
	case n.Debtor.Email != "" && !PlainEmail(n.Debtor.Email):
		add("debtor.email", "a plain email address such as nome@example.it, or nothing")
	case n.Debtor.Email == "" && n.Debtor.PEC == "" && n.Debtor.Address.IsZero():
		add("debtor.email", "required unless the debtor has a PEC or a postal address (debtor.address), where notices then go by post")
	}
	if n.Debtor.PEC != "" && !PlainEmail(n.Debtor.PEC) {
		add("debtor.pec", "a plain PEC address such as nome@pec.example.it, or nothing")
	}
	n.Debtor.Address.validate("debtor.address", add)
	switch {
	case n.Amount < 1 || n.Amount > MaxAmount:
		add("amountCents", fmt.Sprintf("must be an integer number of cents from 1 to %d", MaxAmount))
	case known && !Splittable(creditor, service, n.Amount):
		add("amountCents", fmt.Sprintf("too small to split among the %d beneficiaries of service %s", len(service.Transfers), n.ServiceCode))
	}
	switch {
	case n.DueDate.IsZero():
		add("dueDate", MissingDate)
	case n.DueDate.Before(today):
		add("dueDate", "must not be in the past")
	}
	if c := utf8.RuneCountInString(n.Description); c < 1 || c > 140 || !chars.Printable(n.Description) {
		add("description", "required, at most 140 printable characters on one line")
	}
	n.validateAdoption(creditor, add)
	return errs
}

// ValidIUPD tells whether s can be an iupd: 1 to 35 of A-Z a-z 0-9 . _ -
func ValidIUPD(s string) bool {
	if len(s) < 1 || len(s) > 35 {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

// MissingDate is the message of a due date missing or unreadable; callers that know the
// format expected say it instead.
const MissingDate = "required: a date"

// PlainEmail accepts a bare address of at most 256 characters that paForNode's stEMail
// ([a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*) and RFC 5322 (a dot-atom local part: no
// dot first, last or twice in a row) both accept. A file of 100,000 rows checks as many, so
// this is a loop rather than a regular expression and a parser.
func PlainEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(s) > 256 || local == "" || local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := range len(local) {
		if c := local[i]; !alnum(c) && !strings.ContainsRune("_.+-", rune(c)) {
			return false
		}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return false
		}
		for i := range len(label) {
			if c := label[i]; !alnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// Splittable tells whether amount gives every beneficiary of the service at least a cent,
// which GPD requires.
func Splittable(creditor config.Creditor, service config.Service, amount money.Cents) bool {
	_, err := positions.Transfers(creditor, service, int64(amount), "")
	return err == nil
}

// ErrConflict is returned by Store when the iupd is already used by a different debt.
var ErrConflict = errors.New("iupd already used by a different debt")

// maxDraws bounds the notice numbers Store draws for one debt: a drawn number is taken only
// when the previous platform issued it and a debt adopted it.
const maxDraws = 100

// Store inserts the debt with a new notice number, or the one it adopts, or returns the debt
// already stored under its iupd (created false) when it is the same one. A validated New is
// expected. A retry finds the stored debt before drawing a notice number, so it uses up no IUV
// (two concurrent first calls may still leave one unused: the sequence tolerates gaps). A
// drawn number that an adopted debt holds is skipped; an adopted one that another debt holds
// is ErrNAVTaken.
func Store(ctx context.Context, q *dbgen.Queries, creditor config.Creditor, n New) (d dbgen.DebtPosition, created bool, err error) {
	switch d, err := stored(ctx, q, creditor, n); {
	case err == nil:
		return d, false, nil
	case !errors.Is(err, db.ErrNotFound):
		return d, false, err
	}
	adopted := n.AdoptedNAV()
	for range maxDraws {
		nav := adopted
		if nav == "" {
			if nav, err = draw(ctx, q, creditor); err != nil {
				return d, false, err
			}
		}
		d, err = q.CreateDebt(ctx, dbgen.CreateDebtParams{
			EcFiscalCode: creditor.FiscalCode, Iupd: n.IUPD, ServiceCode: n.ServiceCode,
			DebtorType: n.Debtor.Type, DebtorFiscalCode: n.Debtor.FiscalCode, DebtorName: n.Debtor.FullName,
			DebtorEmail: n.Debtor.Email, DebtorPec: n.Debtor.PEC, AmountCents: int64(n.Amount), DueDate: n.DueDate.Time(),
			Description: n.Description, Nav: nav,
			CampaignID: pgtype.Int8{Int64: n.CampaignID, Valid: n.CampaignID != 0}, CreatedBy: n.CreatedBy,
			GpdAdopted: n.GPDStatus, DebtorStreet: n.Debtor.Address.Street, DebtorPostalCode: n.Debtor.Address.PostalCode,
			DebtorCity: n.Debtor.Address.City, DebtorProvince: n.Debtor.Address.Province,
		})
		if err == nil {
			return d, true, nil
		}
		if !errors.Is(db.NotFound(err), db.ErrNotFound) {
			return d, false, fmt.Errorf("store debt: %w", err)
		}
		// Another call stored the iupd in the meantime (the same debt, or a conflict), or the
		// notice number is taken.
		switch d, err = stored(ctx, q, creditor, n); {
		case !errors.Is(err, db.ErrNotFound):
			return d, false, err
		case adopted != "":
			return d, false, ErrNAVTaken
		}
	}
	return d, false, fmt.Errorf("store debt: %d notice numbers drawn were all taken", maxDraws)
}

// draw is a new notice number from the creditor's sequence.
func draw(ctx context.Context, q *dbgen.Queries, creditor config.Creditor) (string, error) {
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: creditor.FiscalCode, Segregation: int32(creditor.Segregation)})
	if err != nil {
		return "", fmt.Errorf("draw IUV base: %w", err)
	}
	nav, err := pagopa.NewNAV(creditor.Segregation, base)
	if err != nil {
		return "", err
	}
	return nav.String(), nil
}

// stored is the debt stored under n's iupd: db.ErrNotFound when there is none, ErrConflict
// when it is another debt.
func stored(ctx context.Context, q *dbgen.Queries, creditor config.Creditor, n New) (dbgen.DebtPosition, error) {
	d, err := q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: creditor.FiscalCode, Iupd: n.IUPD})
	if err = db.NotFound(err); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return d, err
		}
		return d, fmt.Errorf("load debt: %w", err)
	}
	if !same(d, n) {
		return d, ErrConflict
	}
	return d, nil
}

func same(d dbgen.DebtPosition, n New) bool {
	return d.ServiceCode == n.ServiceCode && d.DebtorType == n.Debtor.Type &&
		d.DebtorFiscalCode == n.Debtor.FiscalCode && d.DebtorName == n.Debtor.FullName &&
		d.DebtorEmail == n.Debtor.Email && d.DebtorPec == n.Debtor.PEC && d.AmountCents == int64(n.Amount) &&
		date.Of(d.DueDate) == n.DueDate && d.Description == n.Description && d.GpdAdopted == n.GPDStatus &&
		(n.AdoptedNAV() == "" || d.Nav == n.AdoptedNAV()) && AddressOf(d) == n.Debtor.Address
}

// AddressOf is the postal address stored with the debt.
func AddressOf(d dbgen.DebtPosition) Address {
	return Address{Street: d.DebtorStreet, PostalCode: d.DebtorPostalCode, City: d.DebtorCity, Province: d.DebtorProvince}
}

// Starter is the part of the Temporal client that starts workflows.
type Starter interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
}

// Start starts the debt's workflow, or leaves the one that runs or ran alone: calling it
// again for the same debt (a retry, a double click, a restarted campaign) starts nothing new.
func Start(ctx context.Context, c Starter, taskQueue string, d dbgen.DebtPosition) error {
	attrs := []temporal.SearchAttributeUpdate{workflows.StatusCreated.SearchAttribute(), workflows.SearchServiceCode.ValueSet(d.ServiceCode)}
	if d.CampaignID.Valid {
		attrs = append(attrs, workflows.SearchCampaignID.ValueSet(d.CampaignID.Int64))
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.DebtWorkflowID(d.EcFiscalCode, d.Iupd),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Started from a worker (a campaign), the first workflow task runs in that worker
		// without a round trip through the task queue.
		EnableEagerStart:      true,
		TypedSearchAttributes: temporal.NewSearchAttributes(attrs...),
		StaticSummary:         fmt.Sprintf("%s debt %s, %s euro due %s", d.ServiceCode, d.Iupd, money.Cents(d.AmountCents).Italian(), date.Of(d.DueDate)),
	}, workflows.Debt, workflows.DebtInput{
		DebtID: d.ID, ECFiscalCode: d.EcFiscalCode, IUPD: d.Iupd, ServiceCode: d.ServiceCode,
		Amount: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate),
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) { // already started and closed: its life is over
		return fmt.Errorf("start the workflow of debt %d: %w", d.ID, err)
	}
	return nil
}
