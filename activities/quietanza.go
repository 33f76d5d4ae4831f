package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/notice"
	"incasso/domain/reminders"
	"incasso/workflows"
)

// SendReceipt sends the debtor the receipt (quietanza) of the payment recorded as receiptID,
// once (key debt/<id>/receipt), by the channel the debtor was last reached on (App IO, email
// or PEC), else by email or PEC. A debtor reached only by post, and with neither address,
// gets none.
func (a *Debts) SendReceipt(ctx context.Context, debtID int64, receiptID string) error {
	q := dbgen.New(a.Pool)
	r, err := q.GetReceiptByReceiptID(ctx, receiptID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && r.DebtID.Int64 != debtID) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("receipt of debt %d does not exist", debtID), workflows.ErrTypeInvalidInput, err)
	} else if err != nil {
		return fmt.Errorf("load receipt of debt %d: %w", debtID, err)
	}
	return a.sendQuietanza(ctx, q, debtID, func(d dbgen.DebtPosition) (string, string) {
		return receiptText(a.Creditor.Name, d, r), fmt.Sprintf("%s le conferma di aver ricevuto il pagamento di %s euro del %s: questo messaggio vale come quietanza.",
			a.Creditor.Name, money.Cents(r.AmountCents).Italian(), paidOn(r).Italian())
	})
}

// sendPlanReceipt sends the debtor the quietanza of a debt paid in full through its instalment
// plan: every instalment, with its amount and the day it was paid (its due date if the day
// was not recorded). Like SendReceipt it
// is sent once (the same key: a debt has one quietanza) by the channel last reached.
func (a *Debts) sendPlanReceipt(ctx context.Context, q *dbgen.Queries, plan dbgen.InstalmentPlan) error {
	debtID := plan.DebtID
	paid, err := q.ListInstalments(ctx, plan.ID) // all of them: the plan ended with nothing left to collect
	if err != nil {
		return fmt.Errorf("load the instalments of plan %d: %w", plan.ID, err)
	}
	var total money.Cents
	for _, i := range paid {
		total += money.Cents(i.AmountCents)
	}
	return a.sendQuietanza(ctx, q, debtID, func(d dbgen.DebtPosition) (string, string) {
		return planReceiptText(a.Creditor.Name, d, paid, total), fmt.Sprintf("%s le conferma di aver ricevuto il pagamento di tutte le %d rate del piano, per %s euro in tutto: questo messaggio vale come quietanza.",
			a.Creditor.Name, len(paid), total.Italian())
	})
}

// sendQuietanza delivers a quietanza, whose email text and App IO sentence compose gives, by
// the channel the debtor was last reached on, else by email or PEC.
func (a *Debts) sendQuietanza(ctx context.Context, q *dbgen.Queries, debtID int64, compose func(dbgen.DebtPosition) (text, ioSays string)) error {
	ladder := []reminders.Channel{reminders.ChannelEmail, reminders.ChannelPEC}
	reached, err := q.GetReachedChannel(ctx, debtID)
	if err = db.NotFound(err); err == nil {
		ladder = append([]reminders.Channel{reminders.Channel(reached)}, slices.DeleteFunc(ladder, func(c reminders.Channel) bool { return c == reminders.Channel(reached) })...)
	} else if !errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("the channel debt %d was reached on: %w", debtID, err)
	}
	return a.deliver(ctx, fmt.Sprintf("debt/%d/receipt", debtID), debtID, false, func(d dbgen.DebtPosition) (message, error) {
		text, says := compose(d)
		m := message{kind: kindReceipt, subject: "Quietanza di pagamento: " + d.Description, text: text}
		chosen, ok, err := reminders.Choose(ladder, a.reaches(ctx, d, ""))
		switch {
		case err != nil || !ok:
			m.unreachable = true
			return m, err
		case chosen == reminders.ChannelIO:
			m.io = a.ioMessage(d, m.subject, ioText(a.Creditor.Name, d, says, false), false)
		}
		m.channel = string(chosen)
		return m, nil
	})
}

// paidOn is the day the receipt says the debt was paid, in Rome; the day it came if it says none.
func paidOn(r dbgen.Receipt) date.Date {
	if r.PaidAt.Valid {
		return date.InRome(r.PaidAt.Time)
	}
	return date.InRome(r.ReceivedAt.Time)
}

func receiptText(creditor string, d dbgen.DebtPosition, r dbgen.Receipt) string {
	return fmt.Sprintf(`Gentile %s,

%s le conferma di aver ricevuto il pagamento dell'avviso pagoPA per: %s.

Importo pagato: %s euro
Data del pagamento: %s
Codice avviso: %s
Identificativo della ricevuta: %s

Questo messaggio vale come quietanza di pagamento: lo conservi.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, d.Description, money.Cents(r.AmountCents).Italian(), paidOn(r).Italian(), notice.GroupNoticeNumber(d.Nav), r.ReceiptID)
}

func planReceiptText(creditor string, d dbgen.DebtPosition, paid []dbgen.Instalment, total money.Cents) string {
	var rows strings.Builder
	for _, i := range paid {
		on := date.Of(i.DueDate)
		if i.PaidAt.Valid {
			on = date.InRome(i.PaidAt.Time)
		}
		fmt.Fprintf(&rows, "  rata %d: %s euro, pagata il %s\n", i.Seq, money.Cents(i.AmountCents).Italian(), on.Italian())
	}
	return fmt.Sprintf(`Gentile %s,

%s le conferma di aver ricevuto, per addebito diretto SEPA, il pagamento di tutte le rate del piano per: %s.
Tutte le rate sono state pagate: il debito è estinto.

Importo pagato: %s euro in %d rate
%s
Codice avviso: %s

Questo messaggio vale come quietanza di pagamento: lo conservi.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, d.Description, total.Italian(), len(paid), rows.String(), notice.GroupNoticeNumber(d.Nav))
}
