package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"incasso/config"
	"incasso/date"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/mail"
	"incasso/money"
	"incasso/notice"
	"incasso/pagopa/gpd"
	"incasso/workflows"
)

// Error types of failures that retrying cannot fix.
const (
	ErrTypeInvalidInput = "InvalidInput"
	ErrTypeGPDRejected  = "GPDRejected"
	ErrTypeMailRejected = "MailRejected"
)

// positionRegistry is the part of pagoPA GPD the debt activities use.
type positionRegistry interface {
	CreateAndPublish(ctx context.Context, organization string, p gpd.Position) error
	Get(ctx context.Context, organization, iupd string) (gpd.Position, error)
}

// mailSender delivers the exact bytes of a message.
type mailSender interface {
	Send(ctx context.Context, from string, to []string, raw []byte) error
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
	// RetentionYears is how long every message is kept, in calendar years.
	RetentionYears int
}

func (a *Debts) load(ctx context.Context, debtID int64) (dbgen.DebtPosition, error) {
	d, err := dbgen.New(a.Pool).GetDebt(ctx, debtID)
	if err != nil {
		err = db.NotFound(err)
		if errors.Is(err, db.ErrNotFound) {
			return d, temporal.NewNonRetryableApplicationError(fmt.Sprintf("debt %d does not exist", debtID), ErrTypeInvalidInput, err)
		}
		return d, fmt.Errorf("load debt %d: %w", debtID, err)
	}
	return d, nil
}

// RegisterPosition creates and publishes the debt's position in GPD. A position that exists
// already (a retry after a lost answer) is read back and accepted when its notice matches.
func (a *Debts) RegisterPosition(ctx context.Context, debtID int64) error {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return err
	}
	pos, err := a.position(d)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalidInput, nil)
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
			fmt.Sprintf("GPD holds position of debt %d with another notice number", debtID), ErrTypeGPDRejected, err)
	case errors.Is(err, gpd.ErrRejected):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("GPD rejected debt %d", debtID), ErrTypeGPDRejected, err)
	default:
		return fmt.Errorf("register debt %d: %w", debtID, err)
	}
}

// position maps a debt to the GPD model: one payment option, one transfer to the comune.
func (a *Debts) position(d dbgen.DebtPosition) (gpd.Position, error) {
	service, ok := a.Services.Find(d.ServiceCode)
	if !ok {
		return gpd.Position{}, fmt.Errorf("service %s is not configured", d.ServiceCode)
	}
	due := date.Of(d.DueDate)
	return gpd.Position{
		IUPD: d.Iupd, Type: d.DebtorType, FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName,
		Email: d.DebtorEmail, CompanyName: a.Creditor.Name,
		PaymentOptions: []gpd.PaymentOption{{
			IUV: d.Nav[1:], Amount: d.AmountCents, Description: d.Description,
			DueDate: due.EndIn(date.Rome).Add(-time.Second),
			Transfers: []gpd.Transfer{{
				IDTransfer: "1", Amount: d.AmountCents, RemittanceInformation: d.Description,
				Category: service.Taxonomy, IBAN: a.Creditor.IBAN,
			}},
		}},
	}, nil
}

// RenderNotice renders the payment notice PDF of the debt, stores it and returns its id.
// The PDF is deterministic, so a retry stores nothing new.
func (a *Debts) RenderNotice(ctx context.Context, debtID int64) (int64, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return 0, err
	}
	var pdf bytes.Buffer
	err = notice.Render(&pdf, notice.Notice{
		CreditorName: a.Creditor.Name, CreditorFiscalCode: d.EcFiscalCode,
		DebtorName: d.DebtorName, DebtorFiscalCode: d.DebtorFiscalCode,
		Subject: d.Description, Amount: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate),
		NoticeNumber: d.Nav,
	})
	if err != nil {
		return 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("render notice of debt %d", debtID), ErrTypeInvalidInput, err)
	}
	sum := sha256.Sum256(pdf.Bytes())
	id, err := dbgen.New(a.Pool).InsertDocument(ctx, dbgen.InsertDocumentParams{
		DebtID: debtID, Kind: "notice", Filename: "avviso-" + d.Nav + ".pdf",
		ContentType: "application/pdf", Content: pdf.Bytes(), Sha256: sum[:],
	})
	if err != nil {
		return 0, fmt.Errorf("store notice of debt %d: %w", debtID, err)
	}
	return id, nil
}

// SendNotice emails the notice document to the debtor and archives the message. The message
// is composed once and stored before it is sent; a retry sends the same stored bytes and a
// message already marked sent is never sent again.
func (a *Debts) SendNotice(ctx context.Context, debtID, documentID int64) error {
	q := dbgen.New(a.Pool)
	key := "debt/" + strconv.FormatInt(debtID, 10) + "/notice"
	comm, err := q.GetCommunicationByDedupeKey(ctx, key)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		comm, err = a.composeNotice(ctx, q, key, debtID, documentID)
		if err != nil {
			return err // with its context; a non-retryable error must reach Temporal unwrapped
		}
	} else if err != nil {
		return fmt.Errorf("load notice message of debt %d: %w", debtID, err)
	}
	if comm.Status == "SENT" {
		return nil
	}
	if err := a.Mail.Send(ctx, a.MailFrom, []string{comm.Recipient}, comm.Raw); err != nil {
		if mail.IsPermanent(err) {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("mail server refused notice of debt %d", debtID), ErrTypeMailRejected, err)
		}
		return fmt.Errorf("send notice of debt %d: %w", debtID, err)
	}
	if err := q.MarkCommunicationSent(ctx, dbgen.MarkCommunicationSentParams{ID: comm.ID, SentAt: pgtype.Timestamptz{Time: time.Now(), Valid: true}}); err != nil {
		return fmt.Errorf("record notice of debt %d as sent: %w", debtID, err)
	}
	return nil
}

func (a *Debts) composeNotice(ctx context.Context, q *dbgen.Queries, key string, debtID, documentID int64) (dbgen.Communication, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return dbgen.Communication{}, err
	}
	doc, err := q.GetDocument(ctx, documentID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return dbgen.Communication{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("document %d does not exist", documentID), ErrTypeInvalidInput, err)
	} else if err != nil {
		return dbgen.Communication{}, fmt.Errorf("load document %d: %w", documentID, err)
	}
	now := time.Now()
	msg := mail.Message{
		From: fmt.Sprintf("%q <%s>", a.Creditor.Name, a.MailFrom), To: d.DebtorEmail,
		Subject:     "Avviso di pagamento pagoPA: " + d.Description,
		MessageID:   fmt.Sprintf("notice-%d-%s@%s", debtID, d.Nav, domainOf(a.MailFrom)),
		Date:        now,
		Text:        noticeText(a.Creditor.Name, d),
		Attachments: []mail.Attachment{{Filename: doc.Filename, ContentType: doc.ContentType, Data: doc.Content}},
	}
	raw, err := msg.Bytes()
	if err != nil {
		return dbgen.Communication{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("compose notice of debt %d", debtID), ErrTypeInvalidInput, err)
	}
	sum := sha256.Sum256(raw)
	err = q.InsertCommunication(ctx, dbgen.InsertCommunicationParams{
		DebtID: debtID, DedupeKey: key, Channel: "email", Recipient: d.DebtorEmail, Subject: msg.Subject,
		MessageID: msg.MessageID, Raw: raw, Sha256: sum[:],
		RetentionUntil: date.InRome(now).Time().AddDate(a.RetentionYears, 0, 0),
	})
	if err != nil {
		return dbgen.Communication{}, fmt.Errorf("archive notice message of debt %d: %w", debtID, err)
	}
	comm, err := q.GetCommunicationByDedupeKey(ctx, key)
	if err != nil {
		return comm, fmt.Errorf("reload notice message of debt %d: %w", debtID, err)
	}
	return comm, nil
}

func noticeText(creditor string, d dbgen.DebtPosition) string {
	due := date.Of(d.DueDate)
	return fmt.Sprintf(`Gentile %s,

%s le invia l'avviso di pagamento pagoPA per: %s.

Importo: %s euro
Scadenza: %s
Codice avviso: %s

Può pagare online sul sito o sull'app della sua banca, con l'app IO, presso gli sportelli
bancari, gli uffici postali, le tabaccherie e i punti vendita aderenti al circuito pagoPA,
indicando il codice avviso o inquadrando il codice QR dell'avviso allegato.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, d.Description, money.Cents(d.AmountCents).Italian(), due.Italian(), notice.GroupNoticeNumber(d.Nav))
}

func domainOf(addr string) string {
	if _, domain, ok := strings.Cut(addr, "@"); ok {
		return domain
	}
	return "incasso.local"
}

// SetStatus records the debt's status. PAID and CANCELLED are final and stay as they are.
func (a *Debts) SetStatus(ctx context.Context, debtID int64, status string) error {
	if !slices.Contains(settableStatuses, status) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("unknown status %q", status), ErrTypeInvalidInput, nil)
	}
	_, err := dbgen.New(a.Pool).SetDebtStatus(ctx, dbgen.SetDebtStatusParams{ID: debtID, Status: status})
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		_, err = a.load(ctx, debtID) // nil when the status is final, InvalidInput when there is no such debt
		return err
	}
	if err != nil {
		return fmt.Errorf("set status of debt %d: %w", debtID, err)
	}
	return nil
}

// settableStatuses are the statuses of debt_positions (its CHECK constraint).
var settableStatuses = []string{
	workflows.StatusCreated, workflows.StatusIssued, workflows.StatusOverdue, workflows.StatusPaid, workflows.StatusCancelled,
}
