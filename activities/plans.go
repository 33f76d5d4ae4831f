package activities

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"incasso/app/config"
	"incasso/clients/gpd"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/instalments"
	"incasso/domain/money"
	"incasso/domain/notice"
	"incasso/domain/pagopa"
	"incasso/domain/sepa"
	"incasso/domain/target2"
	"incasso/services/debts"
	"incasso/services/ibans"
	"incasso/services/positions"
	"incasso/workflows"
)

// paidMarker is the part of GPD that records a notice paid outside pagoPA.
type paidMarker interface {
	MarkPaid(ctx context.Context, organization, nav string, paid gpd.Paid) error
}

var _ paidMarker = (*gpd.Client)(nil)

// Plans are the activities of instalment plans. Messages go through the Debts outbox.
type Plans struct {
	Debts     *Debts
	GPDPaid   paidMarker
	Temporal  debts.Starter
	TaskQueue string
	SDD       config.SDD
	// Policy is what new plans follow (reason codes, timings).
	Policy workflows.PlanPolicy
}

// ibans opens the mandates' IBANs.
func (a *Plans) ibans() ibans.Vault { return ibans.Vault{Ring: a.SDD.IBANKeys} }

func invalid(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), workflows.ErrTypeInvalidInput, nil)
}

// CreatePlan records the plan of a debt, its instalments with a notice number each, and
// publishes them in GPD as partial payment options in place of the single one; the debtor is
// told. The debt becomes INSTALMENTS. Repeating the same request finds the same plan.
func (a *Plans) CreatePlan(ctx context.Context, debtID int64, req workflows.PlanRequest) (workflows.PlanCreated, error) {
	var (
		plan  dbgen.InstalmentPlan
		d     dbgen.DebtPosition
		insts []dbgen.Instalment
	)
	hash := requestHash(req)
	err := db.InTx(ctx, a.Debts.Pool, func(q *dbgen.Queries) error {
		var err error
		if d, err = q.LockDebt(ctx, debtID); errors.Is(db.NotFound(err), db.ErrNotFound) {
			return invalid("debt %d does not exist", debtID)
		} else if err != nil {
			return fmt.Errorf("lock debt %d: %w", debtID, err)
		}
		existing, err := q.GetPlanByDebt(ctx, debtID)
		switch err = db.NotFound(err); {
		case err == nil && string(existing.RequestSha256) == string(hash[:]):
			plan = existing
			if insts, err = q.ListInstalments(ctx, plan.ID); err != nil {
				return err
			}
			return a.publish(ctx, d, insts) // the same PUT again: it may not have reached GPD

		case err == nil:
			return invalid("debt %d has an instalment plan already", debtID)
		case !errors.Is(err, db.ErrNotFound):
			return err
		}
		if d.Status.Final() {
			return settled(d.ID, d.Status)
		}
		mandate, err := q.GetMandate(ctx, req.MandateID)
		if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && mandate.DebtID != debtID) {
			return invalid("mandate %d is not one of debt %d", req.MandateID, debtID)
		} else if err != nil {
			return err
		}
		schedule, err := a.schedule(money.Cents(d.AmountCents), req)
		if err != nil {
			return err
		}
		if plan, err = q.InsertPlan(ctx, dbgen.InsertPlanParams{DebtID: debtID, MandateID: mandate.ID,
			Instalments: int32(req.Instalments), InterestBp: int32(a.SDD.InterestBasisPoints), RequestSha256: hash[:]}); err != nil {
			return fmt.Errorf("insert plan: %w", err)
		}
		for _, in := range schedule {
			nav, err := a.newNAV(ctx, q)
			if err != nil {
				return err
			}
			row := dbgen.Instalment{PlanID: plan.ID, Seq: int32(in.Seq), AmountCents: int64(in.Amount), DueDate: in.DueDate.Time(), Nav: nav}
			if err := q.InsertInstalment(ctx, dbgen.InsertInstalmentParams{PlanID: row.PlanID, Seq: row.Seq,
				AmountCents: row.AmountCents, DueDate: row.DueDate, Nav: row.Nav}); err != nil {
				return fmt.Errorf("insert instalment %d: %w", in.Seq, err)
			}
			insts = append(insts, row)
		}
		if _, err = debts.Advance(ctx, q, debtID, workflows.StatusInstalments); err != nil {
			return err
		}
		// Published before the commit: a refusal leaves nothing behind, and a retry after a
		// failed commit publishes the instalments it draws again in their place.
		return a.publish(ctx, d, insts)
	})
	if err != nil {
		return workflows.PlanCreated{}, withContext(err, "create plan of debt %d", debtID)
	}
	if err := a.confirm(ctx, plan, insts); err != nil {
		return workflows.PlanCreated{}, err
	}
	return a.created(plan, insts), nil
}

// confirm tells the debtor the plan agreed: the instalments, their dates and the mandate.
func (a *Plans) confirm(ctx context.Context, plan dbgen.InstalmentPlan, insts []dbgen.Instalment) error {
	mandate, err := dbgen.New(a.Debts.Pool).GetMandate(ctx, plan.MandateID)
	if err != nil {
		return fmt.Errorf("load mandate of plan %d: %w", plan.ID, err)
	}
	masked, err := a.ibans().Masked(mandate)
	if err != nil {
		return err
	}
	var rows strings.Builder
	for _, in := range insts {
		fmt.Fprintf(&rows, "  rata %2d: %12s euro, scadenza %s\n", in.Seq, money.Cents(in.AmountCents).Italian(), date.Of(in.DueDate).Italian())
	}
	key := fmt.Sprintf("plan/%d/confirmation", plan.ID)
	return a.Debts.deliver(ctx, key, plan.DebtID, false, func(d dbgen.DebtPosition) (message, error) {
		return message{kind: "plan_confirmation", subject: "Rateizzazione accolta: " + d.Description, text: fmt.Sprintf(`Gentile %s,

%s ha accolto la sua richiesta di pagare in %d rate: %s (%s euro).
Le rate saranno addebitate con SEPA Direct Debit sul conto %s (mandato %s,
identificativo del creditore %s); riceverà un preavviso prima di ogni addebito.

%s
L'avviso di pagamento %s non va più pagato in un'unica soluzione.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, a.Debts.Creditor.Name, len(insts), d.Description, money.Cents(d.AmountCents).Italian(),
			masked, mandate.Reference, a.SDD.CreditorID, rows.String(), notice.GroupNoticeNumber(d.Nav))}, nil
	})
}

func requestHash(req workflows.PlanRequest) [32]byte {
	b, _ := json.Marshal(req) // a struct of numbers and a date cannot fail
	return sha256.Sum256(b)
}

// schedule splits the amount: the first instalment is due on FirstDueDate and the others on
// the same day of the following months, or by default each at the end of a month, from the
// first month whose end leaves time for the pre-notification.
func (a *Plans) schedule(amount money.Cents, req workflows.PlanRequest) ([]instalments.Instalment, error) {
	if err := a.SDD.Eligibility.Check(amount, req.Instalments); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalidInput, nil)
	}
	today := date.InRome(time.Now())
	earliest := date.Of(today.Time().AddDate(0, 0, a.SDD.PrenotifyDays+3))
	first, rule := req.FirstDueDate, instalments.SameDayOfMonth
	if first.IsZero() {
		first, rule = endOfMonth(earliest), instalments.LastDayOfMonth
	} else if first.Before(earliest) {
		return nil, invalid("firstDueDate: at least %d days from today, for the pre-notification (%s or later)", a.SDD.PrenotifyDays+3, earliest)
	}
	s, err := instalments.Build(amount, req.Instalments, first, rule, a.SDD.InterestBasisPoints)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalidInput, nil)
	}
	return s, nil
}

func endOfMonth(d date.Date) date.Date {
	return date.Of(time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC))
}

func (a *Plans) newNAV(ctx context.Context, q *dbgen.Queries) (string, error) {
	c := a.Debts.Creditor
	base, err := q.NextIUVBase(ctx, dbgen.NextIUVBaseParams{EcFiscalCode: c.FiscalCode, Segregation: int32(c.Segregation)})
	if err != nil {
		return "", fmt.Errorf("draw IUV base: %w", err)
	}
	nav, err := pagopa.NewNAV(c.Segregation, base)
	if err != nil {
		return "", err
	}
	return nav.String(), nil
}

// publish replaces the position's payment option in GPD with the instalments. The same PUT
// again (a retry) changes nothing.
func (a *Plans) publish(ctx context.Context, d dbgen.DebtPosition, insts []dbgen.Instalment) error {
	options := make([]positions.InstalmentOption, len(insts))
	for k, in := range insts {
		options[k] = positions.InstalmentOption{NAV: in.Nav, Amount: in.AmountCents, DueDate: date.Of(in.DueDate),
			Label: fmt.Sprintf("rata %d di %d", in.Seq, len(insts))}
	}
	pos, err := positions.WithInstalments(a.Debts.Creditor, a.Debts.Services, d, options)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrTypeInvalidInput, nil)
	}
	if err := a.Debts.GPD.Update(ctx, d.EcFiscalCode, pos); err != nil {
		if errors.Is(err, gpd.ErrRejected) {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("GPD rejected the instalments of debt %d", d.ID), workflows.ErrTypeGPDRejected, err)
		}
		return fmt.Errorf("publish instalments of debt %d: %w", d.ID, err)
	}
	return nil
}

func (a *Plans) created(plan dbgen.InstalmentPlan, insts []dbgen.Instalment) workflows.PlanCreated {
	c := workflows.PlanCreated{
		PlanID: plan.ID, Account: a.SDD.Account, Policy: a.Policy,
		Calendar: workflows.Calendar{CutoffHour: a.SDD.CutoffHour},
	}
	c.Policy.PrenotifyDays = a.SDD.PrenotifyDays
	if a.SDD.Day > 0 {
		c.Calendar.DayLength, c.Calendar.Origin = a.SDD.Day, plan.CreatedAt.Time
		c.Calendar.OriginDate = date.InRome(plan.CreatedAt.Time)
	}
	for _, in := range insts {
		c.Instalments = append(c.Instalments, workflows.PlannedInstalment{Seq: int(in.Seq), Amount: money.Cents(in.AmountCents), DueDate: date.Of(in.DueDate)})
	}
	return c
}

// planContext is what the messages about a plan need.
type planContext struct {
	plan       dbgen.InstalmentPlan
	instalment dbgen.Instalment
	mandate    dbgen.SddMandate
	maskedIBAN string // the mandate's
}

func (a *Plans) load(ctx context.Context, ref workflows.InstalmentRef) (planContext, error) {
	q := dbgen.New(a.Debts.Pool)
	var pc planContext
	var err error
	if pc.plan, err = q.GetPlan(ctx, ref.PlanID); err != nil {
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			return pc, invalid("plan %d does not exist", ref.PlanID)
		}
		return pc, fmt.Errorf("load plan %d: %w", ref.PlanID, err)
	}
	if pc.instalment, err = q.GetInstalment(ctx, dbgen.GetInstalmentParams{PlanID: ref.PlanID, Seq: int32(ref.Seq)}); err != nil {
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			return pc, invalid("plan %d has no instalment %d", ref.PlanID, ref.Seq)
		}
		return pc, fmt.Errorf("load instalment %d of plan %d: %w", ref.Seq, ref.PlanID, err)
	}
	if pc.mandate, err = q.GetMandate(ctx, pc.plan.MandateID); err != nil {
		return pc, fmt.Errorf("load mandate of plan %d: %w", ref.PlanID, err)
	}
	pc.maskedIBAN, err = a.ibans().Masked(pc.mandate)
	return pc, err
}

// PrenotifyInstalment tells the debtor, once per collection date, how much will be debited
// from which account on which date, under which mandate and creditor identifier.
func (a *Plans) PrenotifyInstalment(ctx context.Context, ref workflows.InstalmentRef) error {
	pc, err := a.load(ctx, ref)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("plan/%d/%d/prenotify/%s", ref.PlanID, ref.Seq, ref.Date)
	return a.Debts.deliver(ctx, key, pc.plan.DebtID, false, func(d dbgen.DebtPosition) (message, error) {
		return message{kind: "sdd_prenotification",
			subject: fmt.Sprintf("Addebito SEPA della rata %d: %s", ref.Seq, d.Description),
			text:    prenotificationText(a.Debts.Creditor.Name, a.SDD.CreditorID, d, pc, ref.Date)}, nil
	})
}

func prenotificationText(creditor, creditorID string, d dbgen.DebtPosition, pc planContext, on date.Date) string {
	return fmt.Sprintf(`Gentile %s,

%s le comunica che il %s addebiterà sul suo conto %s la rata %d di %d
del piano di rateizzazione di: %s.

Importo: %s euro
Data di addebito: %s
Mandato SEPA: %s
Identificativo del creditore: %s

Se l'addebito non andasse a buon fine potrà essere ripresentato nei giorni successivi.
Due rate non pagate nell'arco di sei mesi, dopo sollecito, comportano la decadenza dal piano.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, on.Italian(), pc.maskedIBAN, pc.instalment.Seq, pc.plan.Instalments,
		d.Description, money.Cents(pc.instalment.AmountCents).Italian(), on.Italian(), pc.mandate.Reference, creditorID)
}

// SendInstalmentSollecito records the instalment as missed and sends the debtor the express
// sollecito the law asks for before a decadenza, by PEC when the debtor has one.
func (a *Plans) SendInstalmentSollecito(ctx context.Context, ref workflows.InstalmentRef) error {
	pc, err := a.load(ctx, ref)
	if err != nil {
		return err
	}
	q := dbgen.New(a.Debts.Pool)
	if err := q.SetInstalmentStatus(ctx, dbgen.SetInstalmentStatusParams{PlanID: ref.PlanID, Seq: int32(ref.Seq),
		Status: workflows.InstalmentMissed, ReasonCode: ref.Reason}); err != nil {
		return fmt.Errorf("record instalment %d of plan %d missed: %w", ref.Seq, ref.PlanID, err)
	}
	key := fmt.Sprintf("plan/%d/%d/sollecito", ref.PlanID, ref.Seq)
	return a.Debts.deliver(ctx, key, pc.plan.DebtID, false, func(d dbgen.DebtPosition) (message, error) {
		m := message{kind: "instalment_sollecito", subject: fmt.Sprintf("Sollecito: rata %d non pagata - %s", ref.Seq, d.Description),
			text: sollecitoText(a.Debts.Creditor.Name, d, pc, ref)}
		if d.DebtorPec != "" {
			m.channel = channelPEC
		}
		return m, nil
	})
}

func sollecitoText(creditor string, d dbgen.DebtPosition, pc planContext, ref workflows.InstalmentRef) string {
	return fmt.Sprintf(`Gentile %s,

%s le comunica che la rata %d di %d del piano di rateizzazione di %s
(%s euro) non è stata pagata: la sua banca ha respinto l'addebito (codice %s).

L'importo della rata resta dovuto e le sarà richiesto con un avviso pagoPA al termine del piano.
Le ricordiamo che il mancato pagamento di due rate, anche non consecutive, nell'arco di sei mesi
comporta la decadenza dal beneficio della rateizzazione: l'intero importo residuo diventa dovuto
in un'unica soluzione. Se il conto è cambiato, ci comunichi il nuovo IBAN firmando un nuovo mandato.

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, ref.Seq, pc.plan.Instalments, d.Description, money.Cents(pc.instalment.AmountCents).Italian(), ref.Reason)
}

// RecordInstalmentStatus records a status the plan decided on its own (an instalment held).
func (a *Plans) RecordInstalmentStatus(ctx context.Context, ref workflows.InstalmentRef, status string) error {
	err := dbgen.New(a.Debts.Pool).SetInstalmentStatus(ctx, dbgen.SetInstalmentStatusParams{
		PlanID: ref.PlanID, Seq: int32(ref.Seq), Status: status, ReasonCode: ref.Reason})
	if err != nil {
		return fmt.Errorf("record instalment %d of plan %d as %s: %w", ref.Seq, ref.PlanID, status, err)
	}
	return nil
}

// MarkInstalmentPaid records a collected instalment as paid once it is final, and its
// payment option as paid in GPD (paid outside pagoPA, by SDD).
func (a *Plans) MarkInstalmentPaid(ctx context.Context, ref workflows.InstalmentRef) error {
	pc, err := a.load(ctx, ref)
	if err != nil {
		return err
	}
	if err := a.RecordInstalmentStatus(ctx, workflows.InstalmentRef{PlanID: ref.PlanID, Seq: ref.Seq}, workflows.InstalmentPaid); err != nil {
		return err
	}
	err = a.GPDPaid.MarkPaid(ctx, a.Debts.Creditor.FiscalCode, pc.instalment.Nav,
		gpd.Paid{Date: ref.Date.Time(), Method: "SDD", PSPCompany: a.Debts.Creditor.Name})
	switch {
	case err == nil, errors.Is(err, gpd.ErrConflict): // paid already: a retry
		return nil
	case errors.Is(err, gpd.ErrRejected), errors.Is(err, gpd.ErrNotFound):
		// incasso's record stands; GPD's is an operator's case, and retrying cannot fix it.
		logger(ctx).Error("GPD did not record the instalment as paid", "plan_id", ref.PlanID, "seq", ref.Seq, "error", err)
		return nil
	default:
		return fmt.Errorf("mark instalment %d of plan %d paid in GPD: %w", ref.Seq, ref.PlanID, err)
	}
}

// ScheduleCollection hands one presentation of an instalment to the collection run of its
// date, starting the run if needed. A run that has written its file already, or whose cut-off
// is over, takes nothing more: the presentation moves to the next business day. Repeating it
// for the same attempt returns the presentation made the first time.
func (a *Plans) ScheduleCollection(ctx context.Context, in workflows.ScheduleInput) (workflows.Scheduled, error) {
	q := dbgen.New(a.Debts.Pool)
	prev, err := q.GetCollectionByAttempt(ctx, dbgen.GetCollectionByAttemptParams{PlanID: in.PlanID, Seq: int32(in.Seq), Attempt: int32(in.Attempt)})
	if err == nil {
		s := workflows.Scheduled{EndToEndID: prev.EndToEndID, CollectionDate: date.Of(prev.CollectionDate)}
		return s, a.startRun(ctx, in.Account, s.CollectionDate, in.Calendar)
	} else if !errors.Is(db.NotFound(err), db.ErrNotFound) {
		return workflows.Scheduled{}, fmt.Errorf("load collection: %w", err)
	}
	s := workflows.Scheduled{EndToEndID: EndToEndID(in.PlanID, in.Seq, in.Attempt), CollectionDate: in.CollectionDate}
	for tries := 0; ; tries++ {
		if tries == 30 {
			return s, fmt.Errorf("no open collection run within 30 business days of %s", in.CollectionDate)
		}
		placed, err := a.place(ctx, in, s)
		if err != nil {
			return s, err
		}
		if placed {
			break
		}
		s.CollectionDate = target2.AddBusinessDays(s.CollectionDate, 1)
	}
	return s, a.startRun(ctx, in.Account, s.CollectionDate, in.Calendar)
}

// place adds the presentation to the run of s.CollectionDate when that run still takes
// collections; the run's row is locked against its own closing meanwhile.
func (a *Plans) place(ctx context.Context, in workflows.ScheduleInput, s workflows.Scheduled) (bool, error) {
	if !time.Now().Before(in.Calendar.CutoffAt(s.CollectionDate)) {
		return false, nil
	}
	placed := false
	err := db.InTx(ctx, a.Debts.Pool, func(q *dbgen.Queries) error {
		key := dbgen.InsertRunParams{Account: in.Account, CollectionDate: s.CollectionDate.Time()}
		if err := q.InsertRun(ctx, key); err != nil {
			return err
		}
		run, err := q.LockRun(ctx, dbgen.LockRunParams(key))
		if err != nil || run.Status != "OPEN" {
			return err
		}
		if err := q.InsertCollection(ctx, dbgen.InsertCollectionParams{EndToEndID: s.EndToEndID, PlanID: in.PlanID,
			Seq: int32(in.Seq), Attempt: int32(in.Attempt), RunID: run.ID, AmountCents: int64(in.Amount)}); err != nil {
			return err
		}
		placed = true
		return q.SetInstalmentStatus(ctx, dbgen.SetInstalmentStatusParams{PlanID: in.PlanID, Seq: int32(in.Seq), Status: workflows.InstalmentSubmitted})
	})
	if err != nil {
		return false, fmt.Errorf("schedule instalment %d of plan %d on %s: %w", in.Seq, in.PlanID, s.CollectionDate, err)
	}
	return placed, nil
}

// EndToEndID is the identifier of one presentation of an instalment: unique forever, and
// the same when an activity is retried.
func EndToEndID(planID int64, seq, attempt int) string {
	return fmt.Sprintf("INC-%d-%d-%d", planID, seq, attempt)
}

// startRun starts the collection run of the date unless it runs already.
func (a *Plans) startRun(ctx context.Context, account string, on date.Date, cal workflows.Calendar) error {
	_, err := a.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.CollectionRunWorkflowID(account, on), TaskQueue: a.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            fmt.Sprintf("SDD collection of %s on %s", account, on),
	}, workflows.CollectionRun, workflows.CollectionRunInput{
		Account: account, CollectionDate: on, SubmitAt: cal.CutoffAt(on),
	})
	if err != nil {
		return fmt.Errorf("start collection run of %s: %w", on, err)
	}
	return nil
}

// SetPlanStatus records the plan as ACTIVE or SUSPENDED.
func (a *Plans) SetPlanStatus(ctx context.Context, planID int64, status string) error {
	if status != workflows.PlanActive && status != workflows.PlanSuspended {
		return invalid("plan status %q cannot be set", status)
	}
	if err := dbgen.New(a.Debts.Pool).SetPlanStatus(ctx, dbgen.SetPlanStatusParams{ID: planID, Status: status}); err != nil {
		return fmt.Errorf("set status of plan %d: %w", planID, err)
	}
	return nil
}

// WithdrawPendingCollections takes back the plan's presentations whose run has not written
// its file yet, and returns their instalments.
func (a *Plans) WithdrawPendingCollections(ctx context.Context, planID int64) ([]int, error) {
	var seqs []int
	err := db.InTx(ctx, a.Debts.Pool, func(q *dbgen.Queries) error {
		if _, err := q.LockOpenRunsOfPlan(ctx, planID); err != nil {
			return err
		}
		withdrawn, err := q.WithdrawPendingCollections(ctx, planID)
		for _, s := range withdrawn {
			seqs = append(seqs, int(s))
			if err := q.SetInstalmentStatus(ctx, dbgen.SetInstalmentStatusParams{PlanID: planID, Seq: s, Status: workflows.InstalmentPlanned}); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("withdraw collections of plan %d: %w", planID, err)
	}
	return seqs, nil
}

// SetPlanMandate makes the plan collect with another mandate of the same debt.
func (a *Plans) SetPlanMandate(ctx context.Context, planID, mandateID int64) error {
	q := dbgen.New(a.Debts.Pool)
	plan, err := q.GetPlan(ctx, planID)
	if err != nil {
		return fmt.Errorf("load plan %d: %w", planID, err)
	}
	m, err := q.GetMandate(ctx, mandateID)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) || (err == nil && m.DebtID != plan.DebtID) {
		return invalid("mandate %d is not one of debt %d", mandateID, plan.DebtID)
	} else if err != nil {
		return fmt.Errorf("load mandate %d: %w", mandateID, err)
	}
	if err := q.SetPlanMandate(ctx, dbgen.SetPlanMandateParams{ID: planID, MandateID: mandateID}); err != nil {
		return fmt.Errorf("set mandate of plan %d: %w", planID, err)
	}
	return nil
}

// RemainderDueDays is how long the debtor has to pay the remainder notice of a plan.
const RemainderDueDays = 30

// FinishPlan records how the plan ended. A plan that collected everything settles its debt and
// sends the debtor its quietanza (one message, by the channel the debtor was reached on); what
// it did not collect becomes a new debt, with its own pagoPA notice and reminder ladder,
// whose iupd it returns; repeating it finds that debt.
func (a *Plans) FinishPlan(ctx context.Context, in workflows.FinishInput) (string, error) {
	q := dbgen.New(a.Debts.Pool)
	plan, err := q.GetPlan(ctx, in.PlanID)
	if err != nil {
		return "", fmt.Errorf("load plan %d: %w", in.PlanID, err)
	}
	params := dbgen.FinishPlanParams{ID: plan.ID, Status: in.Status, RemainderCents: pgtype.Int8{Int64: int64(in.Remainder), Valid: true}}
	var remainderIUPD string
	if in.Remainder > 0 {
		d, err := a.Debts.load(ctx, plan.DebtID)
		if err != nil {
			return "", err
		}
		rest, err := a.remainderDebt(ctx, q, d, in.Remainder)
		if err != nil {
			return "", err
		}
		params.RemainderDebtID, remainderIUPD = pgtype.Int8{Int64: rest.ID, Valid: true}, rest.Iupd
	}
	err = db.InTx(ctx, a.Debts.Pool, func(q *dbgen.Queries) error {
		if err := q.FinishPlan(ctx, params); err != nil || in.Remainder > 0 {
			return err
		}
		_, err := debts.Settle(ctx, q, plan.DebtID, time.Now())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("finish plan %d: %w", in.PlanID, err)
	}
	key := fmt.Sprintf("plan/%d/end", plan.ID)
	if in.Remainder == 0 {
		// The debt is paid: its quietanza tells the debtor so. A plan-end message archived by
		// an attempt before quietanze existed is sent as it is, not doubled by one.
		_, err := q.GetCommunicationByDedupeKey(ctx, key)
		if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
			return "", a.Debts.sendPlanReceipt(ctx, q, plan)
		} else if err != nil {
			return "", fmt.Errorf("load message %s: %w", key, err)
		}
	}
	err = a.Debts.deliver(ctx, key, plan.DebtID, false, func(d dbgen.DebtPosition) (message, error) {
		return message{kind: "plan_end", subject: "Rateizzazione conclusa: " + d.Description, text: planEndText(a.Debts.Creditor.Name, d, in, remainderIUPD)}, nil
	})
	return remainderIUPD, err
}

func planEndText(creditor string, d dbgen.DebtPosition, in workflows.FinishInput, remainderIUPD string) string {
	var what string
	switch {
	case in.Remainder == 0: // only by an attempt before quietanze: see FinishPlan
		what = "Tutte le rate sono state pagate: il debito è estinto."
	case in.Status == workflows.PlanForfeited:
		what = fmt.Sprintf(`Due rate non sono state pagate nell'arco di sei mesi, dopo sollecito: lei è decaduto
dal beneficio della rateizzazione. L'importo residuo di %s euro è dovuto in un'unica
soluzione: riceverà a parte l'avviso di pagamento pagoPA (riferimento %s).`, in.Remainder.Italian(), remainderIUPD)
	case in.Remainder > 0:
		what = fmt.Sprintf(`Il piano è concluso, ma restano da pagare %s euro di rate non addebitate:
riceverà a parte l'avviso di pagamento pagoPA (riferimento %s).`, in.Remainder.Italian(), remainderIUPD)
	}
	return fmt.Sprintf(`Gentile %s,

%s le comunica che il piano di rateizzazione di %s è concluso.

%s

Questo messaggio è generato automaticamente: non risponda a questo indirizzo.
`, d.DebtorName, creditor, d.Description, what)
}

// remainderDebt stores and starts the debt of what a plan did not collect.
func (a *Plans) remainderDebt(ctx context.Context, q *dbgen.Queries, d dbgen.DebtPosition, amount money.Cents) (dbgen.DebtPosition, error) {
	iupd := d.Iupd + "-R"
	if !debts.ValidIUPD(iupd) {
		iupd = fmt.Sprintf("R-%d", d.ID)
	}
	rest, _, err := debts.Store(ctx, q, a.Debts.Creditor, debts.New{
		IUPD: iupd, ServiceCode: d.ServiceCode, Amount: amount,
		Debtor: debts.Debtor{Type: d.DebtorType, FiscalCode: d.DebtorFiscalCode, FullName: d.DebtorName, Email: d.DebtorEmail, PEC: d.DebtorPec,
			Address: debts.AddressOf(d)},
		DueDate:     date.Of(time.Now().In(date.Rome).AddDate(0, 0, RemainderDueDays)),
		Description: sepa.Truncate("Residuo rateizzazione "+d.Description, 140),
	})
	if errors.Is(err, debts.ErrConflict) {
		// A retry on another day computes another due date: the debt stored first stands.
		rest, err = q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: d.EcFiscalCode, Iupd: iupd})
	}
	if err != nil {
		return rest, fmt.Errorf("store remainder of debt %d: %w", d.ID, err)
	}
	return rest, debts.Start(ctx, a.Temporal, a.TaskQueue, rest)
}
