package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/sdk/activity"

	"incasso/clients/appio"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/notice"
	"incasso/domain/reminders"
)

// ioMessenger is the part of App IO the debt activities use.
type ioMessenger interface {
	Enabled(service string) bool
	Profile(ctx context.Context, service, fiscalCode string) (appio.Profile, error)
	Submit(ctx context.Context, service string, body []byte) (appio.Submitted, error)
}

var _ ioMessenger = (*appio.Client)(nil)

// DefaultIOHoldAttempts is the attempt of a message's activity from which App IO not answering
// the profile check no longer holds the message back.
const DefaultIOHoldAttempts = 7

// channelIO is the channel of an App IO message (communications.channel).
const channelIO = string(reminders.ChannelIO)

// ioReaches tells whether a message to the debtor can go by App IO: the debt's service is
// enabled for IO, the debtor is a person, and IO says their profile takes the service's
// messages. No profile, or the service turned off, is false. IO not answering (or refusing the
// service's key) is an error, which the activity's retries wait out for IOHoldAttempts attempts
// (DefaultIOHoldAttempts: about ten minutes with the reminders' retry policy); from then on it
// is false, and the message goes by the ladder's next channel rather than waiting for IO.
func (a *Debts) ioReaches(ctx context.Context, d dbgen.DebtPosition) (bool, error) {
	if a.IO == nil || !a.IO.Enabled(d.ServiceCode) || !appio.ForPerson(d.DebtorFiscalCode) {
		return false, nil
	}
	p, err := a.IO.Profile(ctx, d.ServiceCode, d.DebtorFiscalCode)
	if errors.Is(err, appio.ErrNoProfile) {
		return false, nil
	}
	if err != nil && activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt >= cmp.Or(a.IOHoldAttempts, DefaultIOHoldAttempts) {
		logger(ctx).Warn("App IO has not answered the profile check: the message goes by the next channel",
			"debt_id", d.ID, "attempts", activity.GetInfo(ctx).Attempt, "error", err)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("app io profile check for debt %d: %w", d.ID, err)
	}
	return p.SenderAllowed, nil
}

// reaches tells whether a message by channel c can reach the debtor of d: App IO by a
// profile check, e-mail and PEC by an address on file, SEND when it is configured, the post
// a debtor with an address on file, and always for the accertamento's registered letter (the
// print room finds the residence the act must reach).
func (a *Debts) reaches(ctx context.Context, d dbgen.DebtPosition, step string) func(reminders.Channel) (bool, error) {
	return func(c reminders.Channel) (bool, error) {
		switch c {
		case reminders.ChannelIO:
			return a.ioReaches(ctx, d)
		case reminders.ChannelEmail:
			return d.DebtorEmail != "", nil
		case reminders.ChannelPEC:
			return a.pecReaches(ctx, d, step)
		case reminders.ChannelSEND:
			return a.SEND != nil, nil
		case reminders.ChannelPost:
			return step == reminders.StepAccertamento || d.DebtorStreet != "", nil
		}
		return false, nil
	}
}

// ioMessage is the App IO message of a notice or reminder (with the notice's payment data, so
// that it is paid in the app) or of a receipt (without).
func (a *Debts) ioMessage(d dbgen.DebtPosition, subject, markdown string, payable bool) *appio.Message {
	m := &appio.Message{FiscalCode: d.DebtorFiscalCode, Subject: ioSubject(subject), Markdown: markdown}
	if payable {
		due := date.Of(d.DueDate)
		m.DueDate = time.Date(due.Year, due.Month, due.Day, 0, 0, 0, 0, date.Rome)
		m.Payment = &appio.Payment{NoticeNumber: d.Nav, Amount: money.Cents(d.AmountCents), PayeeFiscalCode: d.EcFiscalCode}
	}
	return m
}

// ioSubject fits a subject in IO's 120 characters.
func ioSubject(s string) string {
	if utf8.RuneCountInString(s) <= appio.MaxSubject {
		return s
	}
	return string([]rune(s)[:appio.MaxSubject-1]) + "…"
}

// ioText is the body of an App IO message about the debt: the greeting, what the message
// says, the notice's data, and how to pay it in the app when it is payable.
func ioText(creditor string, d dbgen.DebtPosition, says string, payable bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Gentile %s,\n\n%s\n\n", d.DebtorName, says)
	fmt.Fprintf(&b, "- **Ente creditore:** %s\n- **Oggetto:** %s\n- **Importo:** %s euro\n- **Scadenza:** %s\n- **Codice avviso:** %s\n",
		creditor, d.Description, money.Cents(d.AmountCents).Italian(), date.Of(d.DueDate).Italian(), notice.GroupNoticeNumber(d.Nav))
	if payable {
		b.WriteString("\nPuò pagare subito in questa app con il pulsante **Paga**, oppure con qualunque canale pagoPA indicando il codice avviso.\n")
	}
	return b.String()
}

// sendIO submits an archived App IO message, once: SENDING is recorded before the request, so
// a retry that finds it SENDING (no answer came) does not submit it again (deliver makes it
// UNCONFIRMED). An answer that IO did not take it (a 5xx, a 429) makes it PENDING again for
// the retry; a refusal (another 4xx) is FAILED and final, like a mail server's.
func (a *Debts) sendIO(ctx context.Context, q *dbgen.Queries, comm dbgen.Communication, rejected func(error) error) error {
	if a.IO == nil {
		return fmt.Errorf("message %s is for App IO, which this worker is not configured for", comm.DedupeKey)
	}
	n, err := q.MarkCommunicationSending(ctx, comm.ID)
	if err != nil {
		return fmt.Errorf("record message %s as being sent: %w", comm.DedupeKey, err)
	}
	if n != 1 {
		return fmt.Errorf("record message %s as being sent: it is no longer pending", comm.DedupeKey)
	}
	crashPoint("after-commit")
	sent, err := a.IO.Submit(ctx, comm.Sender, comm.Raw)
	var se *appio.StatusError
	switch {
	case err == nil:
	case errors.As(err, &se) && se.Status != 0 && !se.Temporary():
		if ferr := q.MarkCommunicationFailed(ctx, dbgen.MarkCommunicationFailedParams{ID: comm.ID, Failure: fmt.Sprintf("app io %d", se.Status)}); ferr != nil {
			return fmt.Errorf("record message %s as refused: %w", comm.DedupeKey, ferr)
		}
		return rejected(err)
	case errors.As(err, &se) && se.Status != 0:
		if perr := q.MarkCommunicationPendingAgain(ctx, comm.ID); perr != nil {
			return fmt.Errorf("record message %s as still to send: %w", comm.DedupeKey, perr)
		}
		return fmt.Errorf("send message %s: %w", comm.DedupeKey, err)
	default:
		return fmt.Errorf("send message %s: %w", comm.DedupeKey, err)
	}
	crashPoint("after-accept")
	sum := sha256.Sum256(sent.Answer)
	err = q.ConfirmCommunicationSubmitted(ctx, dbgen.ConfirmCommunicationSubmittedParams{
		ID: comm.ID, SentAt: pgtype.Timestamptz{Time: time.Now(), Valid: true},
		IoMessageID: pgtype.Text{String: sent.ID, Valid: true}, Answer: sent.Answer, AnswerSha256: sum[:],
	})
	if err != nil {
		return fmt.Errorf("record message %s as sent: %w", comm.DedupeKey, err)
	}
	return nil
}
