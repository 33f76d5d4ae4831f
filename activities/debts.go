package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/clients/mail"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/notice"
	"incasso/services/debts"
	"incasso/services/positions"
	"incasso/workflows"
)

// positionRegistry is the part of pagoPA GPD the debt activities use.
type positionRegistry interface {
	CreateAndPublish(ctx context.Context, organization string, p gpd.Position) error
	Get(ctx context.Context, organization, iupd string) (gpd.Position, error)
	Update(ctx context.Context, organization string, p gpd.Position) error
	Invalidate(ctx context.Context, organization, iupd string) error
}

// mailSender delivers the exact bytes of a message, calling commit just before the relay
// accepts it; an error from commit calls the message off (see mail.Sender.SendConfirmed).
type mailSender interface {
	SendConfirmed(ctx context.Context, from string, to []string, raw []byte, commit func() error) error
}

var (
	_ positionRegistry = (*gpd.Client)(nil)
	_ mailSender       = (*mail.Sender)(nil)
)

// Debts are the activities of the Debt workflow.
type Debts struct {
	Pool     *pgxpool.Pool
	GPD      positionRegistry
	Mail     mailSender
	Creditor config.Creditor
	Services config.Services
	MailFrom string
	// PEC sends certified email from PECFrom, the comune's PEC mailbox.
	PEC     mailSender
	PECFrom string
	// IO sends App IO messages as the IO service of each service enabled for it; nil sends none.
	IO ioMessenger
	// IOHoldAttempts is the attempt from which a message no longer waits for App IO to answer
	// its profile check, and goes by the next channel; zero is DefaultIOHoldAttempts.
	IOHoldAttempts int32
	// LadderDay compresses the reminder ladder's days (tests and demos); zero is real days.
	LadderDay time.Duration
	// RetentionYears is how long every message is kept, in calendar years.
	RetentionYears int
	// INAD and INIPEC give the digital domicile of a citizen and of a company before a step
	// with legal weight; nil: none is looked up, the PEC of the debtor's file is used.
	INAD   citizenRegistry
	INIPEC companyRegistry
	// SEND notifies the accertamento of a debtor without a digital domicile, with
	// SENDTaxonomy as its taxonomy code; nil: it goes by the file's PEC or registered post.
	SEND         actNotifier
	SENDTaxonomy string
}

func (a *Debts) load(ctx context.Context, debtID int64) (dbgen.DebtPosition, error) {
	d, err := dbgen.New(a.Pool).GetDebt(ctx, debtID)
	if err != nil {
		err = db.NotFound(err)
		if errors.Is(err, db.ErrNotFound) {
			return d, temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d does not exist", debtID), workflows.ErrTypeInvalidInput, err)
		}
		return d, fmt.Errorf("load debt %d: %w", debtID, err)
	}
	return d, nil
}

// RegisterPosition creates and publishes the debt's position in GPD. A position that exists
// already (a retry after a lost answer) is read back and accepted when its notice matches. A
// position taken over from the previous platform is updated and published instead.
func (a *Debts) RegisterPosition(ctx context.Context, debtID int64) error {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return err
	}
	return a.register(ctx, d)
}

func (a *Debts) register(ctx context.Context, d dbgen.DebtPosition) error {
	debtID := d.ID
	pos, err := a.position(d)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalidInput, nil)
	}
	if d.GpdAdopted != "" {
		return a.takeOver(ctx, d, pos)
	}
	err = a.GPD.CreateAndPublish(ctx, d.EcFiscalCode, pos)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gpd.ErrConflict):
		existing, getErr := a.GPD.Get(ctx, d.EcFiscalCode, d.Iupd)
		if getErr != nil {
			return fmt.Errorf("read back existing position of debt %d: %w", debtID, getErr)
		}
		for _, opt := range existing.PaymentOptions {
			if opt.IUV == pos.PaymentOptions[0].IUV {
				return nil
			}
		}
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("GPD holds position of debt %d with another notice number", debtID), workflows.ErrTypeGPDRejected, err)
	case errors.Is(err, gpd.ErrRejected):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("GPD rejected debt %d", debtID), workflows.ErrTypeGPDRejected, err)
	default:
		return fmt.Errorf("register debt %d: %w", debtID, err)
	}
}

// takeOver updates the position the previous platform registered in GPD under the debt's
// iupd with incasso's and publishes it. GPD must hold it, with the debt's notice number, in a
// state that can still be paid; a retry updates it again to the same content.
func (a *Debts) takeOver(ctx context.Context, d dbgen.DebtPosition, pos gpd.Position) error {
	refuse := func(why string, err error) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d takes over the GPD position of iupd %s: %s", d.ID, d.Iupd, why),
			workflows.ErrTypeGPDRejected, err)
	}
	notInGPD := "GPD has no such position (check the iupd and the organization the previous platform registered it under)"
	existing, err := a.GPD.Get(ctx, d.EcFiscalCode, d.Iupd)
	switch {
	case errors.Is(err, gpd.ErrNotFound):
		return refuse(notInGPD, err)
	case err != nil:
		return fmt.Errorf("read the GPD position debt %d takes over: %w", d.ID, err)
	}
	if !slices.ContainsFunc(existing.PaymentOptions, func(o gpd.PaymentOption) bool { return o.IUV == pos.PaymentOptions[0].IUV }) {
		return refuse("GPD holds it with another notice number", nil)
	}
	switch existing.Status {
	case "DRAFT", "PUBLISHED", "VALID":
	default:
		return refuse("GPD holds it as "+existing.Status+", which cannot be updated", nil)
	}
	err = a.GPD.Update(ctx, d.EcFiscalCode, pos)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gpd.ErrNotFound):
		return refuse(notInGPD, err)
	case errors.Is(err, gpd.ErrConflict), errors.Is(err, gpd.ErrRejected):
		return refuse("GPD refused the update", err)
	default:
		return fmt.Errorf("update the GPD position debt %d takes over: %w", d.ID, err)
	}
}

// IssueNotice is the whole issue of a notice in one activity: register the position with
// GPD, render the notice, email it, record the debt ISSUED. Each step is idempotent, so a
// retry redoes only what did not happen; a debt paid meanwhile gets no notice and stays PAID.
// The debt is read once for the position and the notice; sending reads its status again, just
// before the message is archived.
func (a *Debts) IssueNotice(ctx context.Context, debtID int64) error {
	defer keepAlive(ctx)()
	d, err := a.load(ctx, debtID)
	if err != nil {
		return err
	}
	if err := a.register(ctx, d); err != nil {
		return err
	}
	documentID, err := a.render(ctx, d)
	if err != nil {
		return err
	}
	if err := a.SendNotice(ctx, debtID, documentID); err != nil {
		return err
	}
	return a.SetStatus(ctx, debtID, workflows.StatusIssued)
}

func (a *Debts) position(d dbgen.DebtPosition) (gpd.Position, error) {
	return positions.Position(a.Creditor, a.Services, d)
}

// RenderNotice renders the payment notice PDF of the debt's current revision, stores it and
// returns its id. The PDF is deterministic, so a retry stores nothing new.
func (a *Debts) RenderNotice(ctx context.Context, debtID int64) (int64, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return 0, err
	}
	return a.render(ctx, d)
}

func (a *Debts) render(ctx context.Context, d dbgen.DebtPosition) (int64, error) {
	debtID := d.ID
	var pdf bytes.Buffer
	err := notice.Render(&pdf, notice.Notice{
		CreditorName: a.Creditor.Name, CreditorFiscalCode: d.EcFiscalCode,
		DebtorName: d.DebtorName, DebtorFiscalCode: d.DebtorFiscalCode, DebtorAddress: postalAddress(d),
		Subject: d.Description, Amount: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate),
		NoticeNumber: d.Nav, PostalAccount: a.Creditor.PostalAccount,
	})
	if err != nil {
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("render notice of debt %d", debtID), workflows.ErrTypeInvalidInput, err)
	}
	sum := sha256.Sum256(pdf.Bytes())
	filename := "avviso-" + d.Nav + ".pdf"
	if d.Revision > 1 {
		filename = fmt.Sprintf("avviso-%s-rev%d.pdf", d.Nav, d.Revision)
	}
	id, err := dbgen.New(a.Pool).InsertDocument(ctx, dbgen.InsertDocumentParams{
		DebtID: debtID, Kind: "notice", Revision: d.Revision, Filename: filename,
		ContentType: "application/pdf", Content: pdf.Bytes(), Sha256: sum[:],
	})
	if err != nil {
		return 0, fmt.Errorf("store notice of debt %d: %w", debtID, err)
	}
	return id, nil
}

func (a *Debts) acknowledgePaid(ctx context.Context, debtID int64) error {
	if err := dbgen.New(a.Pool).AcknowledgePaid(ctx, debtID); err != nil {
		return fmt.Errorf("acknowledge payment of debt %d: %w", debtID, err)
	}
	return nil
}

// SetStatus records a status the debt's workflow reached (services/debts.Advance writes it).
// PAID and CANCELLED are only confirmed here: they are written, with their evidence, by the
// receipt's recorder or the plan's end (PAID) and by CancelPosition (CANCELLED). A workflow
// told of a receipt that was never recorded waits here, retrying, until one is; told of one
// that was, it acknowledges it (the recovery job signals the paid debts not acknowledged).
func (a *Debts) SetStatus(ctx context.Context, debtID int64, status workflows.DebtStatus) error {
	switch status {
	case workflows.StatusPaid, workflows.StatusCancelled:
		d, err := a.load(ctx, debtID)
		if err != nil {
			return err
		}
		switch {
		case d.Status == workflows.StatusPaid && status == workflows.StatusPaid:
			return a.acknowledgePaid(ctx, debtID)
		case d.Status.Final(): // and stays as it is
			return nil
		case status == workflows.StatusPaid:
			return fmt.Errorf("debt %d is %s: no receipt or completed plan settles it yet", debtID, d.Status)
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d is not cancelled: CancelPosition cancels a debt", debtID), workflows.ErrTypeInvalidInput, nil)
	}
	_, err := debts.Advance(ctx, dbgen.New(a.Pool), debtID, status)
	switch {
	case errors.Is(err, debts.ErrNotAdvance):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("status %q cannot be set", status), workflows.ErrTypeInvalidInput, nil)
	case errors.Is(err, db.ErrNotFound):
		_, err = a.load(ctx, debtID) // InvalidInput: there is no such debt
		return err
	case err != nil:
		return fmt.Errorf("set status of debt %d: %w", debtID, err)
	}
	return nil
}
