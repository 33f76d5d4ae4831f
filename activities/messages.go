package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"incasso/clients/appio"
	"incasso/clients/mail"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/notice"
	"incasso/domain/reminders"
	"incasso/services/debts"
	"incasso/workflows"
)

// Kinds of message to the debtor (communications.kind).
const (
	channelEmail = "email"
	channelPEC   = "pec"
	channelPost  = "post"
)

// Kinds of message (communications.kind).
const (
	kindNotice       = "notice"
	kindNoticeChange = "notice_change"
	kindCancellation = "cancellation"
	kindReceipt      = "receipt"
)

// SendNotice sends a notice (the first one, or a revision after a change) to the debtor and
// archives the message: to their App IO profile, with the payment data, when the service is
// enabled for IO and the profile takes its messages; else by email with the notice document;
// a debtor without email gets it by PEC, or else it is queued for the post, the PDF being the
// letter. A debt paid or cancelled in the meantime gets no notice.
func (a *Debts) SendNotice(ctx context.Context, debtID, documentID int64) error {
	q := dbgen.New(a.Pool)
	doc, err := q.GetDocument(ctx, documentID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && doc.DebtID != debtID) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("document %d of debt %d does not exist", documentID, debtID), workflows.ErrTypeInvalidInput, err)
	} else if err != nil {
		return fmt.Errorf("load document %d: %w", documentID, err)
	}
	key, kind := fmt.Sprintf("debt/%d/notice", debtID), kindNotice
	if doc.Revision > 1 {
		key, kind = fmt.Sprintf("debt/%d/notice/rev%d", debtID, doc.Revision), kindNoticeChange
	}
	return a.deliver(ctx, key, debtID, true, func(d dbgen.DebtPosition) (message, error) {
		m := message{kind: kind, subject: "Avviso di pagamento pagoPA: " + d.Description, text: noticeText(a.Creditor.Name, d),
			attachments: []mail.Attachment{{Filename: doc.Filename, ContentType: doc.ContentType, Data: doc.Content}},
			letter:      doc.Content}
		says := a.Creditor.Name + " le invia l'avviso di pagamento pagoPA."
		if doc.Revision > 1 {
			m.subject = "Avviso di pagamento pagoPA aggiornato: " + d.Description
			m.text = "L'avviso di pagamento che le avevamo inviato è stato modificato: quello allegato sostituisce il precedente.\n\n" + m.text
			says = "L'avviso di pagamento pagoPA che le avevamo inviato è stato modificato: questo sostituisce il precedente."
		}
		viaIO, err := a.ioReaches(ctx, d)
		if err != nil {
			return m, err
		}
		if viaIO {
			m.channel, m.io = channelIO, a.ioMessage(d, m.subject, ioText(a.Creditor.Name, d, says, true), true)
		}
		return m, nil
	})
}

// SendCancellation tells the debtor that the debt was cancelled, and why.
func (a *Debts) SendCancellation(ctx context.Context, debtID int64) error {
	return a.deliver(ctx, fmt.Sprintf("debt/%d/cancellation", debtID), debtID, false, func(d dbgen.DebtPosition) (message, error) {
		return message{kind: kindCancellation, subject: "Annullamento avviso di pagamento: " + d.Description, text: cancellationText(a.Creditor.Name, d)}, nil
	})
}

// message is what a communication says, before it becomes an email, a PEC, an App IO
// message or a letter.
type message struct {
	kind, step          string
	channel             string // email (the default), pec, io, or post: letter is printed and posted
	pec                 string // the digital domicile a PEC goes to, when it is not the debtor's file's
	subject, text, html string
	attachments         []mail.Attachment
	letter              []byte         // the PDF of a letter for post; with an email, what to post when the debtor has no email
	io                  *appio.Message // the App IO message, when channel is io
	unreachable         bool           // no channel the message may go by reaches the debtor
}

// reach is the channel m goes by to the debtor: an email goes by PEC to a debtor without
// email, or by post when m has a letter and the debtor an address; false when the debtor
// cannot be reached so.
func reach(d dbgen.DebtPosition, m message) (message, bool) {
	if m.unreachable {
		return m, false
	}
	if m.channel != "" && m.channel != channelEmail {
		return m, true
	}
	switch {
	case d.DebtorEmail != "":
		m.channel = channelEmail
	case d.DebtorPec != "":
		m.channel = channelPEC
	case m.letter != nil && d.DebtorStreet != "":
		m.channel = channelPost
	default:
		return m, false
	}
	return m, true
}

// postalAddress is the debtor's address as printed on a letter, nil when there is none.
func postalAddress(d dbgen.DebtPosition) []string { return debts.AddressOf(d).Lines() }

// errUncomposable marks a message that no retry can compose (a template that fails, the notice
// it attaches missing): the activity fails for good. Any other error of compose is a lookup
// that may answer later, and the activity is retried.
var errUncomposable = errors.New("the message cannot be composed")

func uncomposable(err error) error { return fmt.Errorf("%w: %w", errUncomposable, err) }

// deliver sends the message identified by key at most once: composed and archived before it
// is sent, so a retry sends the same stored bytes. With onlyUnsettled, a debt already paid or
// cancelled gets nothing.
//
// The outbox row says how far a delivery got. PENDING is sent; just before the relay takes the
// message (its final dot), the row becomes SENDING, and SENT once the relay has accepted it. A
// failure to record SENDING calls the message off. A row found SENDING is one whose attempt
// stopped in between: the relay may or may not have the message, so it is not sent again but
// marked UNCONFIRMED for an operator to check. A message the relay refuses for good is FAILED.
func (a *Debts) deliver(ctx context.Context, key string, debtID int64, onlyUnsettled bool, compose func(dbgen.DebtPosition) (message, error)) error {
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
		m, err := compose(d)
		if errors.Is(err, errUncomposable) {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("compose message %s", key), workflows.ErrTypeInvalidInput, err)
		} else if err != nil { // a lookup (App IO, INAD, INI-PEC, the database) a retry may get through
			return fmt.Errorf("compose message %s: %w", key, err)
		}
		m, ok := reach(d, m)
		if !ok {
			logger(ctx).Warn("no channel the message may go by reaches the debtor: not sent",
				"debt_id", d.ID, "kind", m.kind)
			return nil
		}
		if comm, err = a.archive(ctx, q, key, d, m); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("load message %s: %w", key, err)
	}
	rejected := func(err error) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("mail server refused message %s", key), workflows.ErrTypeMailRejected, err)
	}
	switch comm.Status {
	case "PENDING":
	case "SENT", "UNCONFIRMED", "PRINT": // a letter waits for the print room, not for SMTP
		return nil
	case "FAILED":
		return rejected(errors.New(comm.Failure))
	case "SENDING":
		if err := q.MarkCommunicationUnconfirmed(ctx, comm.ID); err != nil {
			return fmt.Errorf("record message %s as unconfirmed: %w", key, err)
		}
		logger(ctx).Warn("message was being sent when its attempt stopped: not sent again, an operator must check whether the relay accepted it",
			"communication_id", comm.ID)
		return nil
	default:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("message %s is %s: not for email", key, comm.Status), workflows.ErrTypeInvalidInput, nil)
	}

	if comm.Channel == channelIO {
		return a.sendIO(ctx, q, comm, rejected)
	}
	sender := a.Mail
	if comm.Channel == channelPEC {
		sender = a.PEC
	}
	err = sender.SendConfirmed(ctx, comm.Sender, []string{comm.Recipient}, comm.Raw, func() error {
		crashPoint("before-commit")
		n, err := q.MarkCommunicationSending(ctx, comm.ID)
		if err != nil {
			return fmt.Errorf("record message %s as being sent: %w", key, err)
		}
		if n != 1 {
			return fmt.Errorf("record message %s as being sent: it is no longer pending", key)
		}
		crashPoint("after-commit")
		return nil
	})
	if err != nil {
		if mail.IsPermanent(err) {
			if ferr := q.MarkCommunicationFailed(ctx, dbgen.MarkCommunicationFailedParams{ID: comm.ID, Failure: failure(err)}); ferr != nil {
				return fmt.Errorf("record message %s as refused: %w", key, ferr)
			}
			return rejected(err)
		}
		return fmt.Errorf("send message %s: %w", key, err)
	}
	crashPoint("after-accept")
	if err := q.ConfirmCommunicationSent(ctx, dbgen.ConfirmCommunicationSentParams{ID: comm.ID, SentAt: pgtype.Timestamptz{Time: time.Now(), Valid: true}}); err != nil {
		return fmt.Errorf("record message %s as sent: %w", key, err)
	}
	return nil
}

// failure says why the relay refused a message, without the reply's text, which may echo the
// address: the SMTP step and code.
func failure(err error) string {
	var e *mail.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("smtp %s %d", e.Step, e.Code)
	}
	return "smtp"
}

// crashAt, set only by tests, is called at the points of deliver where a crash does the most
// harm, so that a test can kill the process there.
var crashAt func(point string)

func crashPoint(point string) {
	if crashAt != nil {
		crashAt(point)
	}
}

// logger is the activity's logger, or the default one outside an activity (in tests).
func logger(ctx context.Context) log.Logger {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return slog.Default()
}

// archive composes the email of m for the debtor and stores it with its hash.
func (a *Debts) archive(ctx context.Context, q *dbgen.Queries, key string, d dbgen.DebtPosition, m message) (dbgen.Communication, error) {
	now := time.Now()
	row := dbgen.InsertCommunicationParams{
		DebtID: d.ID, DedupeKey: key, Kind: m.kind, Step: m.step, Channel: cmp.Or(m.channel, channelEmail),
		Recipient: d.DebtorEmail, Sender: a.MailFrom, Subject: m.subject, Status: "PENDING",
		MessageID:      strings.ReplaceAll(key, "/", "-") + "-" + d.Nav + "@" + domainOf(a.MailFrom),
		RetentionUntil: date.InRome(now).Time().AddDate(a.RetentionYears, 0, 0),
	}
	switch row.Channel {
	case channelPEC:
		row.Recipient, row.Sender = cmp.Or(m.pec, d.DebtorPec), a.PECFrom
	case channelIO: // the exact JSON submitted to IO, as the IO service of the debt's service
		raw, err := m.io.Body()
		if err != nil {
			return dbgen.Communication{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("compose message %s", key), workflows.ErrTypeInvalidInput, err)
		}
		row.Recipient, row.Sender, row.Subject, row.Raw = d.DebtorFiscalCode, d.ServiceCode, m.io.Subject, raw
	case channelPost: // the letter itself is archived, as printed
		row.Recipient, row.Status, row.Raw = "posta ordinaria: "+d.DebtorName, "PRINT", m.letter
		if m.kind == reminders.StepAccertamento {
			row.Recipient = "raccomandata A/R: " + d.DebtorName
		}
	}
	if row.Raw == nil {
		msg := mail.Message{
			From: fmt.Sprintf("%q <%s>", a.Creditor.Name, row.Sender), To: row.Recipient, Subject: m.subject,
			MessageID: row.MessageID, Date: now, Text: m.text, HTML: m.html, Attachments: m.attachments,
		}
		raw, err := msg.Bytes()
		if err != nil {
			return dbgen.Communication{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("compose message %s", key), workflows.ErrTypeInvalidInput, err)
		}
		row.Raw = raw
	}
	sum := sha256.Sum256(row.Raw)
	row.Sha256 = sum[:]
	err := q.InsertCommunication(ctx, row)
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
