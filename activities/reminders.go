package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/sdk/temporal"

	"incasso/clients/mail"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/reminders"
	"incasso/services/policies"
	"incasso/workflows"
)

// LoadPolicy returns the latest escalation policy of the debt's service, or the built-in
// ladder (version 0) when the service has none yet, and records the version the debt follows.
func (a *Debts) LoadPolicy(ctx context.Context, debtID int64) (workflows.Policy, error) {
	d, err := a.load(ctx, debtID)
	if err != nil {
		return workflows.Policy{}, err
	}
	p, err := policies.Latest(ctx, dbgen.New(a.Pool), d.ServiceCode)
	if err != nil {
		return p, err
	}
	p.DayLength = a.LadderDay
	err = dbgen.New(a.Pool).SetDebtPolicy(ctx, dbgen.SetDebtPolicyParams{ID: debtID, PolicyVersion: pgtype.Int4{Int32: int32(p.Version), Valid: true}})
	if err != nil {
		return p, fmt.Errorf("record policy of debt %d: %w", debtID, err)
	}
	return p, nil
}

// SendReminder takes one step of the debt's reminder ladder: it sends the step's message by
// the channel the step and the debtor allow (email, PEC, or a letter for registered post), or
// for the last step records the hand-over to enforced collection. Each step is sent once: its
// outbox key is (debt, step, attempt 1). A debt paid or cancelled meanwhile gets nothing.
func (a *Debts) SendReminder(ctx context.Context, in workflows.StepInput) error {
	d, err := a.load(ctx, in.DebtID)
	if err != nil {
		return err
	}
	if d.Status.Final() {
		return nil
	}
	q := dbgen.New(a.Pool)
	var sendErr error
	if in.Step.Name == workflows.StepEnforcement {
		if err := q.InsertHandover(ctx, dbgen.InsertHandoverParams{DebtID: d.ID, AmountCents: d.AmountCents}); err != nil {
			return fmt.Errorf("record hand-over of debt %d: %w", d.ID, err)
		}
	} else {
		key := fmt.Sprintf("debt/%d/%s/1", d.ID, in.Step.Name)
		bySEND, err := a.goesBySEND(ctx, d, in.Step, key)
		if err != nil {
			return err
		}
		if bySEND {
			if err := a.notifyBySEND(ctx, d, in); err != nil {
				return err
			}
		} else {
			sendErr = a.deliver(ctx, key, d.ID, true, func(d dbgen.DebtPosition) (message, error) {
				return a.reminder(ctx, in, d)
			})
		}
		// A message refused for good is archived as FAILED: the step is taken all the same.
		var appErr *temporal.ApplicationError
		if sendErr != nil && !(errors.As(sendErr, &appErr) && appErr.Type() == workflows.ErrTypeMailRejected) {
			return sendErr
		}
	}
	if err := q.SetLadderStep(ctx, dbgen.SetLadderStepParams{ID: d.ID, LadderStep: in.Step.Name}); err != nil {
		return fmt.Errorf("record step %s of debt %d: %w", in.Step.Name, d.ID, err)
	}
	return sendErr
}

// goesBySEND tells whether the step's act goes by SEND: a notification started already, or,
// for a step whose ladder has SEND and whose message was not composed yet, the channel the
// ladder chooses (reminders.Choose, as reminder does).
func (a *Debts) goesBySEND(ctx context.Context, d dbgen.DebtPosition, step workflows.Step, key string) (bool, error) {
	if !slices.Contains(step.Ladder(), reminders.ChannelSEND) {
		return false, nil
	}
	q := dbgen.New(a.Pool)
	_, err := q.GetSendNotification(ctx, dbgen.GetSendNotificationParams{DebtID: d.ID, Step: step.Name})
	if err = db.NotFound(err); err == nil {
		return true, nil
	} else if !errors.Is(err, db.ErrNotFound) {
		return false, fmt.Errorf("load SEND notification of debt %d: %w", d.ID, err)
	}
	_, err = q.GetCommunicationByDedupeKey(ctx, key)
	if err = db.NotFound(err); err == nil {
		return false, nil // composed already: deliver goes on with it
	} else if !errors.Is(err, db.ErrNotFound) {
		return false, fmt.Errorf("load message %s: %w", key, err)
	}
	chosen, ok, err := reminders.Choose(step.Ladder(), a.reaches(ctx, d, step.Name))
	return ok && chosen == reminders.ChannelSEND, err
}

// stepData is what a step's message says of the debt; an accertamento states the days its
// legal clock counts.
func (a *Debts) stepData(d dbgen.DebtPosition, in workflows.StepInput) reminders.Data {
	today := date.InRome(time.Now())
	return reminders.Data{
		PayDays: in.Step.PayDays, HandoverDays: in.WaitDays,
		CreditorName: a.Creditor.Name, CreditorFiscalCode: d.EcFiscalCode, Contact: a.MailFrom,
		DebtorName: d.DebtorName, DebtorFiscalCode: d.DebtorFiscalCode, DebtorAddress: postalAddress(d), Description: d.Description,
		Amount: money.Cents(d.AmountCents), DueDate: date.Of(d.DueDate), NoticeNumber: d.Nav,
		StepDate: today, Reference: fmt.Sprintf("%s/%d/%d", referencePrefix[in.Step.Name], today.Year, d.ID),
	}
}

// referencePrefix begins the protocol number of each step's letter.
var referencePrefix = map[string]string{workflows.StepSollecito: "SOL", workflows.StepAccertamento: "ACC"}

// reminder composes the message of a step for the debt, by the first channel of the step's
// ladder that reaches the debtor (reminders.Choose): an App IO message with the notice's
// payment data, an email or a PEC with the step's text (to the digital domicile found, when
// one was: see pecReaches), or the step's letter for the post (the sollecito's by ordinary
// post to a debtor with an address, the accertamento's by registered post). A debtor that no
// channel of the ladder reaches gets nothing (deliver logs it).
func (a *Debts) reminder(ctx context.Context, in workflows.StepInput, d dbgen.DebtPosition) (message, error) {
	step := in.Step
	chosen, ok, err := reminders.Choose(step.Ladder(), a.reaches(ctx, d, step.Name))
	if err != nil || !ok {
		return message{kind: step.Name, step: step.Name, unreachable: true}, err
	}
	channel, wording := string(chosen), chosen
	if chosen == reminders.ChannelPEC && reminders.ValidateChannels(step.Name, []reminders.Channel{chosen}) != nil {
		// The older "email" ladder reaches a debtor without email by PEC, in the email's words.
		wording = reminders.ChannelEmail
	}
	data := a.stepData(d, in)
	m := message{kind: step.Name, step: step.Name, channel: channel}
	if chosen == reminders.ChannelPEC && domicileSteps[step.Name] {
		if m.pec, err = a.domicile(ctx, d, step.Name); err != nil { // the lookup pecReaches recorded
			return m, err
		}
	}
	if channel == channelIO {
		text, err := reminders.Render(step.Name, reminders.ChannelEmail, data)
		if err != nil {
			return m, uncomposable(err)
		}
		m.subject, m.io = text.Subject, a.ioMessage(d, text.Subject, ioText(a.Creditor.Name, d, ioReminders[step.Name], true), true)
		return m, nil
	}
	if channel == channelPost && step.Name == workflows.StepSollecito {
		var pdf bytes.Buffer
		if err := reminders.SollecitoLetter(&pdf, data); err != nil {
			return m, uncomposable(err)
		}
		m.subject, m.letter = "Sollecito di pagamento "+data.Reference, pdf.Bytes()
		return m, nil
	}
	var attachment mail.Attachment
	if step.Name == workflows.StepAccertamento {
		var pdf bytes.Buffer
		if err := reminders.Letter(&pdf, data); err != nil {
			return m, uncomposable(err)
		}
		if channel == channelPost {
			m.subject, m.letter = "Accertamento esecutivo "+data.Reference, pdf.Bytes()
			return m, nil
		}
		attachment = mail.Attachment{Filename: "accertamento-" + d.Nav + ".pdf", ContentType: "application/pdf", Data: pdf.Bytes()}
	} else {
		doc, err := dbgen.New(a.Pool).GetLatestDocument(ctx, dbgen.GetLatestDocumentParams{DebtID: d.ID, Kind: "notice"})
		if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
			return m, uncomposable(fmt.Errorf("the notice of debt %d: %w", d.ID, err))
		} else if err != nil {
			return m, fmt.Errorf("the notice of debt %d: %w", d.ID, err)
		}
		attachment = mail.Attachment{Filename: doc.Filename, ContentType: doc.ContentType, Data: doc.Content}
	}
	text, err := reminders.Render(step.Name, wording, data)
	if err != nil {
		return m, uncomposable(err)
	}
	m.subject, m.text, m.html, m.attachments = text.Subject, text.Text, text.HTML, []mail.Attachment{attachment}
	return m, nil
}

// ioReminders are what the App IO message of each step that may go by IO says.
var ioReminders = map[string]string{
	workflows.StepCourtesy: "le ricordiamo che l'avviso di pagamento pagoPA qui sotto scade tra pochi giorni. Se lo ha già pagato, non tenga conto di questo messaggio.",
	workflows.StepSollecito: "l'avviso di pagamento pagoPA qui sotto è scaduto e non ci risulta ancora pagato: la invitiamo a pagarlo al più presto, " +
		"per evitare l'avviso di accertamento esecutivo e le sue maggiori spese. Se lo ha già pagato, non tenga conto di questo messaggio.",
}
