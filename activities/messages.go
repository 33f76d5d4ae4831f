package activities

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/sdk/temporal"

	"incasso/date"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/mail"
	"incasso/money"
	"incasso/notice"
	"incasso/workflows"
)

// Kinds of message to the debtor (communications.kind).
const (
	kindNotice       = "notice"
	kindNoticeChange = "notice_change"
	kindCancellation = "cancellation"
)

// SendNotice emails a notice document (the first one, or a revision after a change) to the
// debtor and archives the message. A debt paid or cancelled in the meantime gets no notice.
func (a *Debts) SendNotice(ctx context.Context, debtID, documentID int64) error {
	q := dbgen.New(a.Pool)
	doc, err := q.GetDocument(ctx, documentID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && doc.DebtID != debtID) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("document %d of debt %d does not exist", documentID, debtID), ErrTypeInvalidInput, err)
	} else if err != nil {
		return fmt.Errorf("load document %d: %w", documentID, err)
	}
	key, kind := fmt.Sprintf("debt/%d/notice", debtID), kindNotice
	if doc.Revision > 1 {
		key, kind = fmt.Sprintf("debt/%d/notice/rev%d", debtID, doc.Revision), kindNoticeChange
	}
	return a.deliver(ctx, key, debtID, true, func(d dbgen.DebtPosition) message {
		m := message{kind: kind, subject: "Avviso di pagamento pagoPA: " + d.Description, text: noticeText(a.Creditor.Name, d),
			attachments: []mail.Attachment{{Filename: doc.Filename, ContentType: doc.ContentType, Data: doc.Content}}}
		if doc.Revision > 1 {
			m.subject = "Avviso di pagamento pagoPA aggiornato: " + d.Description
			m.text = "L'avviso di pagamento che le avevamo inviato è stato modificato: quello allegato sostituisce il precedente.\n\n" + m.text
		}
		return m
	})
}

// SendCancellation tells the debtor that the debt was cancelled, and why.
func (a *Debts) SendCancellation(ctx context.Context, debtID int64) error {
	return a.deliver(ctx, fmt.Sprintf("debt/%d/cancellation", debtID), debtID, false, func(d dbgen.DebtPosition) message {
		return message{kind: kindCancellation, subject: "Annullamento avviso di pagamento: " + d.Description, text: cancellationText(a.Creditor.Name, d)}
	})
}

// message is what a kind of communication says, before it becomes an email.
type message struct {
	kind, subject, text string
	attachments         []mail.Attachment
}

// deliver sends the message identified by key once: composed and archived before it is sent,
// so a retry sends the same stored bytes, and never sent again once marked sent. With
// onlyUnsettled, a debt already paid or cancelled gets nothing.
func (a *Debts) deliver(ctx context.Context, key string, debtID int64, onlyUnsettled bool, compose func(dbgen.DebtPosition) message) error {
	q := dbgen.New(a.Pool)
	comm, err := q.GetCommunicationByDedupeKey(ctx, key)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		d, err := a.load(ctx, debtID)
		if err != nil {
			return err // with its context; a non-retryable error must reach Temporal unwrapped
		}
		if onlyUnsettled && (d.Status == workflows.StatusPaid || d.Status == workflows.StatusCancelled) {
			return nil
		}
		if comm, err = a.archive(ctx, q, key, d, compose(d)); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("load message %s: %w", key, err)
	}
	if comm.Status == "SENT" {
		return nil
	}
	if err := a.Mail.Send(ctx, a.MailFrom, []string{comm.Recipient}, comm.Raw); err != nil {
		if mail.IsPermanent(err) {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("mail server refused message %s", key), ErrTypeMailRejected, err)
		}
		return fmt.Errorf("send message %s: %w", key, err)
	}
	if err := q.MarkCommunicationSent(ctx, dbgen.MarkCommunicationSentParams{ID: comm.ID, SentAt: pgtype.Timestamptz{Time: time.Now(), Valid: true}}); err != nil {
		return fmt.Errorf("record message %s as sent: %w", key, err)
	}
	return nil
}

// archive composes the email of m for the debtor and stores it with its hash.
func (a *Debts) archive(ctx context.Context, q *dbgen.Queries, key string, d dbgen.DebtPosition, m message) (dbgen.Communication, error) {
	now := time.Now()
	msg := mail.Message{
		From: fmt.Sprintf("%q <%s>", a.Creditor.Name, a.MailFrom), To: d.DebtorEmail,
		Subject:     m.subject,
		MessageID:   strings.ReplaceAll(key, "/", "-") + "-" + d.Nav + "@" + domainOf(a.MailFrom),
		Date:        now,
		Text:        m.text,
		Attachments: m.attachments,
	}
	raw, err := msg.Bytes()
	if err != nil {
		return dbgen.Communication{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("compose message %s", key), ErrTypeInvalidInput, err)
	}
	sum := sha256.Sum256(raw)
	err = q.InsertCommunication(ctx, dbgen.InsertCommunicationParams{
		DebtID: d.ID, DedupeKey: key, Kind: m.kind, Channel: "email", Recipient: d.DebtorEmail, Subject: msg.Subject,
		MessageID: msg.MessageID, Raw: raw, Sha256: sum[:], Sender: a.MailFrom, Status: "PENDING",
		RetentionUntil: date.InRome(now).Time().AddDate(a.RetentionYears, 0, 0),
	})
	if err != nil {
		return dbgen.Communication{}, fmt.Errorf("archive message %s: %w", key, err)
	}
	comm, err := q.GetCommunicationByDedupeKey(ctx, key)
	if err != nil {
		return comm, fmt.Errorf("reload message %s: %w", key, err)
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

func cancellationText(creditor string, d dbgen.DebtPosition) string {
	return fmt.Sprintf(`Gentile %s,

%s le comunica che l'avviso di pagamento pagoPA con codice %s
(%s, %s euro) è stato annullato e non deve essere pagato.

Motivo: %s

Se lo ha già pagato, sarà contattato per il rimborso.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, notice.GroupNoticeNumber(d.Nav), d.Description, money.Cents(d.AmountCents).Italian(), d.CancelReason.String)
}

func domainOf(addr string) string {
	if _, domain, ok := strings.Cut(addr, "@"); ok {
		return domain
	}
	return "incasso.local"
}
