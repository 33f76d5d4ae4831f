package activities

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"incasso/app/config"
	"incasso/clients/bankgw"
	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/domain/sepa/camt054"
	"incasso/domain/sepa/pain002"
	"incasso/domain/sepa/pain008"
	"incasso/services/ibans"
	"incasso/workflows"
)

// signaler is the part of the Temporal client that signals workflows.
type signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// SDD are the activities of collection runs and of the bank's notifications.
type SDD struct {
	Pool     *pgxpool.Pool
	Bank     bankgw.Gateway
	Temporal signaler
	Creditor config.Creditor
	Config   config.SDD
}

// pageSize is how many collections are read or signalled at a time.
const pageSize = 1000

func (a *SDD) run(ctx context.Context, ref workflows.RunRef) (dbgen.SddRun, error) {
	run, err := dbgen.New(a.Pool).GetRun(ctx, dbgen.GetRunParams{Account: ref.Account, CollectionDate: ref.CollectionDate.Time()})
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return run, invalid("no collection run for %s on %s", ref.Account, ref.CollectionDate)
	} else if err != nil {
		return run, fmt.Errorf("load run %s %s: %w", ref.Account, ref.CollectionDate, err)
	}
	return run, nil
}

// SubmitCollectionFile closes the run to new collections, fixes each collection's mandate and
// sequence type, writes the run's pain.008 (streamed, gzipped into sdd_messages) and submits
// it to the bank. A retry submits the stored file again under the same message id, which the
// bank accepts once. A file the bank refuses as invalid counts as rejected at group level
// with FF01, a technical reason the plans present again without counting it.
func (a *SDD) SubmitCollectionFile(ctx context.Context, ref workflows.RunRef) (workflows.SubmittedFile, error) {
	run, err := a.run(ctx, ref)
	if err != nil {
		return workflows.SubmittedFile{}, err
	}
	var file *os.File
	if run.Status == "OPEN" {
		if file, err = a.writeFile(ctx, run); err != nil {
			return workflows.SubmittedFile{}, err
		}
		if run, err = a.run(ctx, ref); err != nil {
			return workflows.SubmittedFile{}, err
		}
	}
	if run.Status == "EMPTY" || !run.MsgID.Valid {
		return workflows.SubmittedFile{}, nil
	}
	out := workflows.SubmittedFile{MsgID: run.MsgID.String, Transactions: int(run.Transactions), CtrlSum: money.Cents(run.CtrlSumCents)}
	if run.Status == "REPORTED" {
		return out, nil
	}
	if file == nil {
		if file, err = a.storedFile(ctx, out.MsgID); err != nil {
			return out, err
		}
	}
	defer os.Remove(file.Name())
	defer file.Close()
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return out, err
	}
	err = a.Bank.Submit(ctx, out.MsgID, file)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, bankgw.ErrConflict):
		return out, temporal.NewNonRetryableApplicationError(fmt.Sprintf("the bank holds file %s with other content", out.MsgID), workflows.ErrTypeBankConflict, err)
	case errors.Is(err, bankgw.ErrRejected):
		logger(ctx).Error("the bank refused the file: its collections are rejected as FF01", "msg_id", out.MsgID, "error", err)
		return out, a.rejectWholeRun(ctx, run, "FF01")
	default:
		return out, fmt.Errorf("submit file %s: %w", out.MsgID, err)
	}
}

// writeFile writes and stores the pain.008 of an open run in one transaction that holds the
// run's row, so no collection joins or leaves it meanwhile. It returns the file, on disk for
// the upload; nil when the run was closed meanwhile.
func (a *SDD) writeFile(ctx context.Context, run dbgen.SddRun) (*os.File, error) {
	var file *os.File
	err := db.InTx(ctx, a.Pool, func(q *dbgen.Queries) error {
		locked, err := q.LockRun(ctx, dbgen.LockRunParams{Account: run.Account, CollectionDate: run.CollectionDate})
		if err != nil || locked.Status != "OPEN" {
			return err
		}
		if err := q.BindCollections(ctx, run.ID); err != nil {
			return fmt.Errorf("bind collections: %w", err)
		}
		totals, err := q.RunTotals(ctx, run.ID)
		if err != nil {
			return fmt.Errorf("run totals: %w", err)
		}
		var n int32
		var sum int64
		for _, t := range totals {
			n, sum = n+t.Transactions, sum+t.CtrlSum
		}
		if n == 0 {
			return q.CloseRun(ctx, dbgen.CloseRunParams{ID: run.ID, Status: "EMPTY"})
		}
		msgID := fmt.Sprintf("INC-SDD-%s-%d", date.Of(run.CollectionDate).Time().Format("20060102"), run.ID)
		if file, err = os.CreateTemp("", "pain008-*.xml"); err != nil {
			return err
		}
		stored, err := a.write(ctx, q, run, msgID, totals, file)
		if err != nil {
			return fmt.Errorf("write file %s: %w", msgID, err)
		}
		if err := archiveBankMessage(ctx, q, stored); err != nil {
			return withContext(err, "store file %s", msgID)
		}
		if err := q.SetRunTotals(ctx, dbgen.SetRunTotalsParams{ID: run.ID, Transactions: n, CtrlSumCents: sum}); err != nil {
			return err
		}
		return q.CloseRun(ctx, dbgen.CloseRunParams{ID: run.ID, Status: "SUBMITTED", MsgID: pgtype.Text{String: msgID, Valid: true}})
	})
	if err != nil {
		if file != nil {
			file.Close()
			os.Remove(file.Name())
		}
		return nil, withContext(err, "collection file of run %d", run.ID)
	}
	return file, nil
}

// write streams the run's transactions, page by page, into a pain.008 on disk and its gzip
// for the archive, one payment information block per sequence type.
func (a *SDD) write(ctx context.Context, q *dbgen.Queries, run dbgen.SddRun, msgID string, totals []dbgen.RunTotalsRow, disk io.Writer) (dbgen.InsertSDDMessageParams, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	hash := sha256.New()
	counter := &countingWriter{}
	out := io.MultiWriter(disk, zw, hash, counter)
	var n int
	var sum money.Cents
	for _, t := range totals {
		n, sum = n+int(t.Transactions), sum+money.Cents(t.CtrlSum)
	}
	w, err := pain008.NewWriter(out, pain008.V08, pain008.GroupHeader{
		MsgID: msgID, Created: time.Now(), NbOfTxs: n, CtrlSum: sum, InitiatingParty: a.Creditor.Name,
	})
	if err != nil {
		return dbgen.InsertSDDMessageParams{}, err
	}
	vault := ibans.Vault{Ring: a.Config.IBANKeys}
	for _, t := range totals {
		err := w.StartPaymentInfo(pain008.PaymentInfo{
			ID: msgID + "-" + t.SequenceType, SequenceType: t.SequenceType, CollectionDate: date.Of(run.CollectionDate),
			CreditorName: a.Creditor.Name, CreditorIBAN: a.Config.CreditorIBAN, CreditorBIC: a.Config.CreditorBIC,
			CreditorID: a.Config.CreditorID, NbOfTxs: int(t.Transactions), CtrlSum: money.Cents(t.CtrlSum),
		})
		if err != nil {
			return dbgen.InsertSDDMessageParams{}, err
		}
		afterID := int64(0)
		for {
			page, err := q.RunTransactions(ctx, dbgen.RunTransactionsParams{RunID: run.ID, AfterType: t.SequenceType, AfterID: afterID, PageSize: pageSize})
			if err != nil {
				return dbgen.InsertSDDMessageParams{}, err
			}
			for _, tx := range page {
				if tx.SequenceType != t.SequenceType {
					break
				}
				iban, err := vault.Open(tx.Reference, ibans.Stored{Plain: tx.Iban, Sealed: tx.IbanSealed, KeyID: tx.IbanKeyID})
				if err != nil {
					return dbgen.InsertSDDMessageParams{}, err
				}
				err = w.Add(pain008.Transaction{
					EndToEndID: tx.EndToEndID, Amount: money.Cents(tx.AmountCents), MandateID: tx.Reference,
					MandateSigned: date.Of(tx.SignedOn), DebtorName: sepa.Truncate(sepa.Transliterate(tx.DebtorName), 70),
					DebtorIBAN: iban, DebtorBIC: tx.Bic,
					RemittanceInfo: sepa.Truncate(sepa.Transliterate(fmt.Sprintf("Rata %d/%d %s %s", tx.Seq, tx.Instalments, tx.Iupd, tx.Description)), 140),
				})
				if err != nil {
					return dbgen.InsertSDDMessageParams{}, err
				}
				afterID = tx.ID
			}
			activity.RecordHeartbeat(ctx, afterID)
			if len(page) < pageSize || (len(page) > 0 && page[len(page)-1].SequenceType != t.SequenceType) {
				break
			}
		}
	}
	if err := w.Close(); err != nil {
		return dbgen.InsertSDDMessageParams{}, err
	}
	if err := zw.Close(); err != nil {
		return dbgen.InsertSDDMessageParams{}, err
	}
	return dbgen.InsertSDDMessageParams{Direction: "OUT", MsgType: "pain.008", MsgID: msgID,
		RunID: pgtype.Int8{Int64: run.ID, Valid: true}, ContentGz: gz.Bytes(), Sha256: hash.Sum(nil), SizeBytes: counter.n}, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// storedFile unpacks a stored outgoing file to disk, for submitting it again.
func (a *SDD) storedFile(ctx context.Context, msgID string) (*os.File, error) {
	m, err := dbgen.New(a.Pool).GetSDDMessage(ctx, dbgen.GetSDDMessageParams{Direction: "OUT", MsgID: msgID})
	if err != nil {
		return nil, fmt.Errorf("load file %s: %w", msgID, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(m.ContentGz))
	if err != nil {
		return nil, fmt.Errorf("unpack file %s: %w", msgID, err)
	}
	file, err := os.CreateTemp("", "pain008-*.xml")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(file, zr); err != nil {
		file.Close()
		os.Remove(file.Name())
		return nil, fmt.Errorf("unpack file %s: %w", msgID, err)
	}
	return file, nil
}

// rejectWholeRun records every collection of the run as rejected with reason.
func (a *SDD) rejectWholeRun(ctx context.Context, run dbgen.SddRun, reason string) error {
	return db.InTx(ctx, a.Pool, func(q *dbgen.Queries) error {
		subs, err := q.RunSubmittedCollections(ctx, run.ID)
		if err != nil {
			return err
		}
		var o outcomes
		for _, c := range subs {
			o.add(c.EndToEndID, "REJECTED", reason)
		}
		if err := q.SetCollectionOutcomes(ctx, o.params()); err != nil {
			return err
		}
		return q.MarkRunReported(ctx, run.ID)
	})
}

// outcomes gathers the collections' answers for one batch update.
type outcomes struct{ e2es, statuses, reasons []string }

func (o *outcomes) add(e2e, status, reason string) {
	o.e2es, o.statuses, o.reasons = append(o.e2es, e2e), append(o.statuses, status), append(o.reasons, reason)
}

func (o *outcomes) params() dbgen.SetCollectionOutcomesParams {
	return dbgen.SetCollectionOutcomesParams{EndToEndIds: o.e2es, Statuses: o.statuses, Reasons: o.reasons}
}

// accepted are the pain.002 statuses that mean the bank took the collection.
var accepted = map[string]bool{"ACCP": true, "ACSC": true, "ACSP": true, "ACTC": true, "ACWC": true}

// FetchStatusReport waits for the run's pain.002 and records the outcome of every
// collection. An attempt asks the bank every Config.ReportPoll for up to reportPatience, then
// fails, and Temporal asks again later. A
// malformed report, or one about another file, is refused with the reason and changes nothing.
func (a *SDD) FetchStatusReport(ctx context.Context, ref workflows.RunRef) (workflows.RunOutcome, error) {
	run, err := a.run(ctx, ref)
	if err != nil || run.Status == "EMPTY" {
		return workflows.RunOutcome{}, err
	}
	if run.Status != "REPORTED" {
		if err := a.applyReport(ctx, run); err != nil {
			return workflows.RunOutcome{}, err
		}
	}
	counts, err := dbgen.New(a.Pool).CountRunOutcomes(ctx, run.ID)
	if err != nil {
		return workflows.RunOutcome{}, fmt.Errorf("count outcomes of run %d: %w", run.ID, err)
	}
	return workflows.RunOutcome{Accepted: int(counts.Accepted), Rejected: int(counts.Rejected)}, nil
}

// reportPatience is how long one attempt of FetchStatusReport waits for the bank, asking
// every Config.ReportPoll; after it the attempt fails and Temporal retries with backoff.
const reportPatience = 30 * time.Minute

// awaitReport asks the bank for the pain.002 of msgID until it has one, heartbeating.
func (a *SDD) awaitReport(ctx context.Context, msgID string) ([]byte, error) {
	giveUp := time.Now().Add(reportPatience)
	for {
		raw, err := a.Bank.StatusReport(ctx, msgID)
		if !errors.Is(err, bankgw.ErrNotReady) {
			if err != nil {
				return nil, fmt.Errorf("status report of file %s: %w", msgID, err)
			}
			return raw, nil
		}
		if time.Now().After(giveUp) {
			return nil, fmt.Errorf("the bank has no status report for file %s after %s", msgID, reportPatience)
		}
		activity.RecordHeartbeat(ctx, msgID)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(a.Config.ReportPoll):
		}
	}
}

func (a *SDD) applyReport(ctx context.Context, run dbgen.SddRun) error {
	msgID := run.MsgID.String
	raw, err := a.awaitReport(ctx, msgID)
	if err != nil {
		return err
	}
	report, err := pain002.Parse(raw)
	if err != nil {
		return fmt.Errorf("status report of file %s refused: %w", msgID, err)
	}
	if report.OriginalMsgID != msgID {
		return fmt.Errorf("status report %s is about file %s, not %s: refused", report.MsgID, report.OriginalMsgID, msgID)
	}
	stored, err := archived("IN", "pain.002", report.MsgID, run.ID, raw)
	if err != nil {
		return err
	}
	pending := 0
	err = db.InTx(ctx, a.Pool, func(q *dbgen.Queries) error {
		subs, err := q.RunSubmittedCollections(ctx, run.ID)
		if err != nil {
			return err
		}
		var o outcomes
		for _, c := range subs {
			status, reason := report.StatusOf(msgID+"-"+c.SequenceType, c.EndToEndID)
			switch {
			case status == "RJCT":
				o.add(c.EndToEndID, "REJECTED", reason)
			case accepted[status]:
				o.add(c.EndToEndID, "ACCEPTED", "")
			default:
				pending++
			}
		}
		if err := archiveBankMessage(ctx, q, stored); err != nil {
			return err
		}
		if err := q.SetCollectionOutcomes(ctx, o.params()); err != nil {
			return err
		}
		if err := q.CollectAcceptedInstalments(ctx, run.ID); err != nil {
			return err
		}
		if pending > 0 {
			return nil
		}
		return q.MarkRunReported(ctx, run.ID)
	})
	if err == nil && pending > 0 { // what was decided is recorded; the rest is asked again
		err = fmt.Errorf("status report %s of file %s leaves %d collections without an outcome", report.MsgID, msgID, pending)
	}
	return err
}

// archived is a message received from the bank, gzipped for sdd_messages.
func archived(direction, msgType, msgID string, runID int64, raw []byte) (dbgen.InsertSDDMessageParams, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw); err != nil {
		return dbgen.InsertSDDMessageParams{}, err
	}
	if err := zw.Close(); err != nil {
		return dbgen.InsertSDDMessageParams{}, err
	}
	sum := sha256.Sum256(raw)
	return dbgen.InsertSDDMessageParams{Direction: direction, MsgType: msgType, MsgID: msgID,
		RunID: pgtype.Int8{Int64: runID, Valid: runID != 0}, ContentGz: gz.Bytes(), Sha256: sum[:], SizeBytes: int64(len(raw))}, nil
}

// archiveBankMessage stores a message sent to or received from the bank, once per direction and message
// id. The same id with the same bytes is a resend and changes nothing; with other bytes it is
// refused for good (ErrTypeMessageIDReused) and logged with the two hashes, so that the
// transaction storing it rolls back and nothing of the message is applied: a message id names
// one message, forever.
func archiveBankMessage(ctx context.Context, q *dbgen.Queries, m dbgen.InsertSDDMessageParams) error {
	n, err := q.InsertSDDMessage(ctx, m)
	if err != nil || n == 1 {
		return err
	}
	prev, err := q.GetSDDMessage(ctx, dbgen.GetSDDMessageParams{Direction: m.Direction, MsgID: m.MsgID})
	if err != nil {
		return fmt.Errorf("load archived message %s: %w", m.MsgID, err)
	}
	if bytes.Equal(prev.Sha256, m.Sha256) {
		return nil
	}
	kept, received := hex.EncodeToString(prev.Sha256), hex.EncodeToString(m.Sha256)
	logger(ctx).Error("bank message id reused with other content: refused, nothing of it applied",
		"direction", m.Direction, "msg_type", m.MsgType, "msg_id", m.MsgID, "archived_sha256", kept, "received_sha256", received)
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("%s %s: message id archived already (%s, sha256 %s) with other content (sha256 %s): refused",
			m.MsgType, m.MsgID, prev.MsgType, kept, received),
		workflows.ErrTypeMessageIDReused, nil)
}

// NotifyPlans signals each plan of the run the outcome of its collection. The collection
// reached is the heartbeat, so a retry goes on from there; a plan told twice ignores it.
func (a *SDD) NotifyPlans(ctx context.Context, ref workflows.RunRef) (int, error) {
	run, err := a.run(ctx, ref)
	if err != nil {
		return 0, err
	}
	var after int64
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &after)
	}
	told := 0
	q := dbgen.New(a.Pool)
	for {
		page, err := q.RunOutcomesPage(ctx, dbgen.RunOutcomesPageParams{RunID: run.ID, ID: after, Limit: pageSize})
		if err != nil {
			return told, fmt.Errorf("outcomes of run %d: %w", run.ID, err)
		}
		for _, c := range page {
			o := workflows.CollectionOutcome{EndToEndID: c.EndToEndID, Outcome: c.Status, Reason: c.ReasonCode}
			if err := a.tell(ctx, c.EcFiscalCode, c.Iupd, o); err != nil {
				return told, err
			}
			told, after = told+1, c.ID
			if told%100 == 0 {
				activity.RecordHeartbeat(ctx, after)
			}
		}
		activity.RecordHeartbeat(ctx, after)
		if len(page) < pageSize {
			return told, nil
		}
	}
}

// tell signals a plan an outcome; a plan that has ended is logged for an operator.
func (a *SDD) tell(ctx context.Context, ec, iupd string, o workflows.CollectionOutcome) error {
	err := a.Temporal.SignalWorkflow(ctx, workflows.PlanWorkflowID(ec, iupd), "", workflows.SignalCollectionOutcome, o)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		logger(ctx).Warn("collection outcome for a plan that is not running: an operator must look at it",
			"end_to_end_id", o.EndToEndID, "outcome", o.Outcome, "reason", o.Reason)
		return nil
	}
	if err != nil {
		return fmt.Errorf("signal plan of %s: %w", o.EndToEndID, err)
	}
	return nil
}

// cursorNotifications names the position reached in the bank's notifications.
const cursorNotifications = "bank-notifications"

// PollBankNotifications reads the bank's notifications (camt.054) after the last one read,
// records every return and refund of a collection and tells its plan, then moves the cursor.
// A notification that cannot be read stops the poll with the reason, so nothing is skipped.
func (a *SDD) PollBankNotifications(ctx context.Context) (int, error) {
	q := dbgen.New(a.Pool)
	cursor, err := q.GetCursor(ctx, cursorNotifications)
	if err = db.NotFound(err); err != nil && !errors.Is(err, db.ErrNotFound) {
		return 0, fmt.Errorf("load cursor: %w", err)
	}
	returns := 0
	for {
		docs, err := a.Bank.Notifications(ctx, cursor, 50)
		if err != nil {
			return returns, fmt.Errorf("bank notifications after %q: %w", cursor, err)
		}
		if len(docs) == 0 {
			return returns, nil
		}
		for _, doc := range docs {
			n, err := a.applyNotification(ctx, doc)
			if err != nil {
				return returns, err
			}
			returns += n
			if err := q.SetCursor(ctx, dbgen.SetCursorParams{Name: cursorNotifications, Position: doc.ID}); err != nil {
				return returns, fmt.Errorf("move cursor: %w", err)
			}
			cursor = doc.ID
			activity.RecordHeartbeat(ctx, cursor)
		}
	}
}

// applyNotification records the returns of one camt.054 and tells their plans.
func (a *SDD) applyNotification(ctx context.Context, doc bankgw.Document) (int, error) {
	n, err := camt054.Parse(doc.XML)
	if err != nil {
		return 0, fmt.Errorf("bank notification %s refused: %w", doc.ID, err)
	}
	stored, err := archived("IN", "camt.054", n.MsgID, 0, doc.XML)
	if err != nil {
		return 0, err
	}
	type route struct {
		ec, iupd string
		outcome  workflows.CollectionOutcome
	}
	var routes []route
	err = db.InTx(ctx, a.Pool, func(q *dbgen.Queries) error {
		if err := archiveBankMessage(ctx, q, stored); err != nil {
			return err
		}
		for _, r := range n.Returns {
			status := "RETURNED"
			if r.Refund {
				status = "REFUNDED"
			}
			c, err := q.ReturnCollection(ctx, dbgen.ReturnCollectionParams{Status: status, Reason: r.Reason, EndToEndID: r.EndToEndID})
			if errors.Is(db.NotFound(err), db.ErrNotFound) {
				// A return can overtake the status report of its file: read it again later.
				if known, err := q.CollectionStatus(ctx, r.EndToEndID); err == nil && known == "SUBMITTED" {
					return fmt.Errorf("return of %s came before the status report of its file: read again later", r.EndToEndID)
				}
				logger(ctx).Warn("return of a collection incasso did not make or that was never accepted", "end_to_end_id", r.EndToEndID)
				continue
			} else if err != nil {
				return err
			}
			routes = append(routes, route{c.EcFiscalCode, c.Iupd, workflows.CollectionOutcome{EndToEndID: r.EndToEndID, Outcome: workflows.OutcomeReturned, Reason: r.Reason}})
		}
		return nil
	})
	if err != nil {
		return 0, withContext(err, "record notification %s", n.MsgID)
	}
	for _, r := range routes {
		if err := a.tell(ctx, r.ec, r.iupd, r.outcome); err != nil {
			return 0, err
		}
	}
	return len(routes), nil
}
