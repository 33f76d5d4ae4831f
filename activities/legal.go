package activities

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/clients/send"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/reminders"
	"incasso/workflows"
)

// actNotifier is SEND: it notifies an act, says how the notification goes, and gives its
// legal facts.
type actNotifier interface {
	Upload(ctx context.Context, docs ...send.Document) ([]send.Ref, error)
	Create(ctx context.Context, n send.Notification) (string, error)
	RequestStatus(ctx context.Context, protocolNumber, idempotenceToken string) (send.RequestStatus, error)
	Notification(ctx context.Context, iun string) (send.State, error)
	DownloadLegalFact(ctx context.Context, iun, key string) (send.LegalFact, error)
}

var _ actNotifier = (*send.Client)(nil)

// sendRefused is the status of a notification SEND refused.
const sendRefused = "REFUSED"

// notifyBySEND sends the step's act (the accertamento's letter) as a SEND notification, with
// the debt's pagoPA notice as its payment: archived first under (debt, step), then uploaded
// and requested once. SEND knows the request by its protocol number and idempotence token (the
// row's id): a retry after a lost answer finds it (409) and reads its id back. A request SEND
// refuses for good is recorded REFUSED: the step is taken, and the legal clock sees no proof.
func (a *Debts) notifyBySEND(ctx context.Context, d dbgen.DebtPosition, in workflows.StepInput) error {
	step := in.Step
	q := dbgen.New(a.Pool)
	key := dbgen.GetSendNotificationParams{DebtID: d.ID, Step: step.Name}
	n, err := q.GetSendNotification(ctx, key)
	data := a.stepData(d, in)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		var pdf bytes.Buffer
		if err := reminders.Letter(&pdf, data); err != nil {
			return fmt.Errorf("compose the act of debt %d: %w", d.ID, err)
		}
		sum := sha256.Sum256(pdf.Bytes())
		err := q.InsertSendNotification(ctx, dbgen.InsertSendNotificationParams{
			DebtID: d.ID, Step: step.Name, ProtocolNumber: data.Reference, Act: pdf.Bytes(), ActSha256: sum[:],
			RetentionUntil: date.InRome(time.Now()).Time().AddDate(a.RetentionYears, 0, 0),
		})
		if err != nil {
			return fmt.Errorf("archive the act of debt %d: %w", d.ID, err)
		}
		if n, err = q.GetSendNotification(ctx, key); err != nil {
			return fmt.Errorf("reload the act of debt %d: %w", d.ID, err)
		}
	} else if err != nil {
		return fmt.Errorf("load SEND notification of debt %d: %w", d.ID, err)
	}
	if n.RequestID != "" || n.Status == sendRefused {
		return nil
	}
	doc, err := q.GetLatestDocument(ctx, dbgen.GetLatestDocumentParams{DebtID: d.ID, Kind: "notice"})
	if err != nil {
		return fmt.Errorf("the notice of debt %d: %w", d.ID, db.NotFound(err))
	}
	refs, err := a.SEND.Upload(ctx, send.Document{Title: "accertamento", Content: n.Act}, send.Document{Title: "avviso", Content: doc.Content})
	if err != nil {
		return fmt.Errorf("upload the act of debt %d to SEND: %w", d.ID, err)
	}
	token := fmt.Sprint(n.ID)
	rec := send.Recipient{Company: d.DebtorType == "G", FiscalCode: d.DebtorFiscalCode, Name: d.DebtorName, PEC: d.DebtorPec}
	if d.DebtorStreet != "" {
		rec.Address = &send.Address{Street: d.DebtorStreet, PostalCode: d.DebtorPostalCode, City: d.DebtorCity, Province: d.DebtorProvince}
	}
	payBy, _ := workflows.Deadlines(time.Now(), cmp.Or(step.PayDays, workflows.DefaultPayDays), 0)
	id, err := a.SEND.Create(ctx, send.Notification{
		ProtocolNumber: n.ProtocolNumber, IdempotenceToken: token, Subject: "Accertamento esecutivo " + n.ProtocolNumber,
		Recipient: rec, Act: refs[0], ActTitle: "Accertamento esecutivo " + n.ProtocolNumber, Payment: refs[1],
		NoticeNumber: d.Nav, CreditorTaxID: d.EcFiscalCode, SenderName: a.Creditor.Name, TaxonomyCode: a.sendTaxonomy(d.ServiceCode),
		Amount: d.AmountCents, PayBy: payBy.String(),
	})
	switch {
	case errors.Is(err, send.ErrConflict):
		st, err := a.SEND.RequestStatus(ctx, n.ProtocolNumber, token)
		if err != nil {
			return fmt.Errorf("read back the SEND request of debt %d: %w", d.ID, err)
		}
		id = st.RequestID
	case errors.Is(err, send.ErrRejected):
		logger(ctx).Error("SEND refused the notification of the accertamento: the legal clock will not start", "debt_id", d.ID)
		return q.SetSendState(ctx, dbgen.SetSendStateParams{ID: n.ID, Status: sendRefused, Timeline: n.Timeline})
	case err != nil:
		return fmt.Errorf("request the SEND notification of debt %d: %w", d.ID, err)
	}
	if err := q.SetSendRequested(ctx, dbgen.SetSendRequestedParams{ID: n.ID, RequestID: id}); err != nil {
		return fmt.Errorf("record the SEND request of debt %d: %w", d.ID, err)
	}
	return nil
}

// CheckLegalProof looks for the proof that the act of in.Step reached the debtor: SEND's
// perfected notification (its status polled, its legal facts downloaded and archived), the
// PEC delivery receipt (avvenuta consegna), or the return card an operator entered. The first
// proof found is recorded on the debt with its deadlines, and stands; an act that cannot reach
// the debtor any more is recorded as failed. Otherwise it says what it waits for.
func (a *Debts) CheckLegalProof(ctx context.Context, in workflows.LegalClockInput) (workflows.LegalProof, error) {
	d, err := a.load(ctx, in.DebtID)
	if err != nil {
		return workflows.LegalProof{}, err
	}
	if d.NotifiedBy != "" {
		return proofOf(d), nil
	}
	if d.NoticeFailed != "" {
		return workflows.LegalProof{Failed: d.NoticeFailed}, nil
	}
	var at time.Time
	var failed, waiting string
	q := dbgen.New(a.Pool)
	by := workflows.ProofSEND
	n, err := q.GetSendNotification(ctx, dbgen.GetSendNotificationParams{DebtID: d.ID, Step: in.Step})
	switch err = db.NotFound(err); {
	case err == nil:
		at, failed, waiting, err = a.syncSEND(ctx, q, n)
	case errors.Is(err, db.ErrNotFound):
		by, at, failed, waiting, err = stepDelivery(ctx, q, d.ID, in.Step)
	}
	if err != nil {
		return workflows.LegalProof{}, err
	}
	switch {
	case !at.IsZero():
		payBy, from := workflows.Deadlines(at, in.PayDays, in.WaitDays)
		err := q.SetLegalClock(ctx, dbgen.SetLegalClockParams{ID: d.ID, NotifiedBy: by, NotifiedAt: pgtype.Timestamptz{Time: at, Valid: true},
			PayBy: pgtype.Date{Time: payBy.Time(), Valid: true}, HandoverFrom: pgtype.Date{Time: from.Time(), Valid: true}})
		if err != nil {
			return workflows.LegalProof{}, fmt.Errorf("record the legal clock of debt %d: %w", d.ID, err)
		}
		if d, err = a.load(ctx, d.ID); err != nil {
			return workflows.LegalProof{}, err
		}
		return proofOf(d), nil
	case failed != "":
		if err := q.SetNoticeFailed(ctx, dbgen.SetNoticeFailedParams{ID: d.ID, NoticeFailed: failed}); err != nil {
			return workflows.LegalProof{}, fmt.Errorf("record the failed notification of debt %d: %w", d.ID, err)
		}
		return workflows.LegalProof{Failed: failed}, nil
	}
	return workflows.LegalProof{Waiting: waiting}, nil
}

// proofOf is the legal clock recorded on the debt.
func proofOf(d dbgen.DebtPosition) workflows.LegalProof {
	return workflows.LegalProof{By: d.NotifiedBy, At: d.NotifiedAt.Time, PayBy: date.Of(d.PayBy.Time), HandoverFrom: date.Of(d.HandoverFrom.Time)}
}

// syncSEND asks SEND how the notification stands, records its status and timeline, downloads
// the legal facts not archived yet, and returns when it was perfected, why it failed, or what
// it waits for.
func (a *Debts) syncSEND(ctx context.Context, q *dbgen.Queries, n dbgen.SendNotification) (at time.Time, failed, waiting string, err error) {
	if n.Status == sendRefused {
		return at, "SEND refused the notification", "", nil
	}
	if a.SEND == nil {
		return at, "", "", errors.New("a SEND notification to follow, and SEND is not configured (INCASSO_SEND_URL)")
	}
	iun := n.Iun.String
	if !n.Iun.Valid {
		st, err := a.SEND.RequestStatus(ctx, n.ProtocolNumber, fmt.Sprint(n.ID))
		if err != nil {
			return at, "", "", fmt.Errorf("SEND request of debt %d: %w", n.DebtID, err)
		}
		switch st.Status {
		case send.RequestRefused:
			err := q.SetSendState(ctx, dbgen.SetSendStateParams{ID: n.ID, Status: sendRefused, Timeline: n.Timeline})
			return at, "SEND refused the notification", "", err
		case send.RequestAccepted:
			iun = st.IUN
		default:
			return at, "", "SEND's acceptance of the notification request", nil
		}
	}
	s, err := a.SEND.Notification(ctx, iun)
	if err != nil {
		return at, "", "", fmt.Errorf("SEND notification of debt %d: %w", n.DebtID, err)
	}
	if err := a.archiveLegalFacts(ctx, q, n, iun, s.LegalFacts); err != nil {
		return at, "", "", err
	}
	state := dbgen.SetSendStateParams{ID: n.ID, Iun: pgtype.Text{String: iun, Valid: true}, Status: s.Status, Timeline: s.Timeline}
	if !s.PerfectedAt.IsZero() {
		state.PerfectedAt = pgtype.Timestamptz{Time: s.PerfectedAt, Valid: true}
	}
	if err := q.SetSendState(ctx, state); err != nil {
		return at, "", "", fmt.Errorf("record SEND notification of debt %d: %w", n.DebtID, err)
	}
	switch {
	case s.Failed():
		return at, "SEND: " + s.Status, "", nil
	case !s.PerfectedAt.IsZero():
		return s.PerfectedAt, "", "", nil
	}
	return at, "", fmt.Sprintf("SEND notification %s to be perfected (now %s)", iun, s.Status), nil
}

// archiveLegalFacts downloads and archives each legal fact not archived yet; one SEND is still
// preparing is left for the next look.
func (a *Debts) archiveLegalFacts(ctx context.Context, q *dbgen.Queries, n dbgen.SendNotification, iun string, facts []send.LegalFactRef) error {
	have, err := q.ListLegalFactKeys(ctx, n.ID)
	if err != nil {
		return fmt.Errorf("list legal facts of debt %d: %w", n.DebtID, err)
	}
	known := map[string]bool{}
	for _, k := range have {
		known[k] = true
	}
	for _, f := range facts {
		if known[f.Key] {
			continue
		}
		known[f.Key] = true
		lf, err := a.SEND.DownloadLegalFact(ctx, iun, f.Key)
		if errors.Is(err, send.ErrNotReady) {
			continue
		} else if err != nil {
			return fmt.Errorf("download a legal fact of debt %d: %w", n.DebtID, err)
		}
		sum := sha256.Sum256(lf.Content)
		err = q.InsertLegalFact(ctx, dbgen.InsertLegalFactParams{NotificationID: n.ID, LegalFactKey: f.Key, Category: f.Category,
			Filename: lf.Filename, Content: lf.Content, Sha256: sum[:], RetentionUntil: n.RetentionUntil})
		if err != nil {
			return fmt.Errorf("archive a legal fact of debt %d: %w", n.DebtID, err)
		}
	}
	return nil
}

// stepDelivery is the proof of the message the step sent: the PEC's delivery receipt or the
// registered letter's return card.
func stepDelivery(ctx context.Context, q *dbgen.Queries, debtID int64, step string) (by string, at time.Time, failed, waiting string, err error) {
	c, err := q.GetStepCommunication(ctx, dbgen.GetStepCommunicationParams{DebtID: debtID, Step: step})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return "", at, "no act was sent to the debtor", "", nil
	} else if err != nil {
		return "", at, "", "", fmt.Errorf("load the act of debt %d: %w", debtID, err)
	}
	switch c.Channel {
	case channelPEC:
		if c.DeliveredAt.Valid {
			return workflows.ProofPEC, c.DeliveredAt.Time, "", "", nil
		}
		undelivered, err := q.HasPECNonDelivery(ctx, c.ID)
		switch {
		case err != nil:
			return "", at, "", "", fmt.Errorf("PEC receipts of debt %d: %w", debtID, err)
		case undelivered:
			return "", at, "PEC not delivered (mancata consegna)", "", nil
		case c.Status == "FAILED":
			return "", at, "PEC refused by the provider", "", nil
		}
		return "", at, "", "the PEC delivery receipt (avvenuta consegna)", nil
	case channelPost:
		switch c.CardOutcome.String {
		case returnDelivered:
			d := date.Of(c.CardDate.Time)
			return workflows.ProofReturnCard, time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, date.Rome), "", "", nil
		case returnReturned:
			return "", at, "registered letter returned undelivered", "", nil
		}
		return "", at, "", "the return card of the registered letter, entered by an operator", nil
	}
	return "", at, "the act went by ordinary email, which proves no delivery", "", nil
}

// Outcomes of a return card (return_cards.outcome).
const (
	returnDelivered = "delivered"
	returnReturned  = "returned"
)

// sendTaxonomy is the SEND taxonomy code of the service's accertamenti: the service's own, else
// the configured default.
func (a *Debts) sendTaxonomy(serviceCode string) string {
	service, _ := a.Services.Find(serviceCode)
	return cmp.Or(service.SENDTaxonomy, a.SENDTaxonomy)
}
