package activities_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"incasso/clients/inad"
	"incasso/clients/inipec"
	"incasso/clients/send"
	"incasso/db/dbgen"
	"incasso/devstack/domicilesim"
	"incasso/devstack/fakeclock"
	"incasso/devstack/sendsim"
	"incasso/workflows"
)

// legal is a fixture whose debts look domiciles up in the simulated INAD and INI-PEC and send
// acts through the simulated SEND, on a fake clock.
type legal struct {
	*fixture
	registries *domicilesim.Registries
	send       *sendsim.SEND
	clock      *fakeclock.Clock
}

func newLegal(t *testing.T, withSEND bool) *legal {
	t.Helper()
	f := newFixture(t)
	l := &legal{fixture: f, registries: domicilesim.New("voucher", "assertion"), clock: fakeclock.New(time.Now())}
	l.send = sendsim.New(sendsim.Config{APIKey: "send-key", Now: l.clock.Now, DefaultDays: 5})
	mux := http.NewServeMux()
	mux.Handle("/", l.send.Handler())
	mux.Handle(domicilesim.INADBasePath+"/", l.registries.Handler())
	mux.Handle(domicilesim.INIPECBasePath+"/", l.registries.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a := *f.debts
	a.INAD = inad.New(srv.URL+domicilesim.INADBasePath, "voucher", 5*time.Second)
	a.INIPEC = inipec.New(inipec.Config{BaseURL: srv.URL + domicilesim.INIPECBasePath, ClientID: "incasso", Assertion: "assertion", Scope: "pec", Timeout: 5 * time.Second})
	if withSEND {
		a.SEND, a.SENDTaxonomy = send.New(srv.URL, "send-key", 5*time.Second), "010201P"
	}
	f.debts = &a
	return l
}

func (l *legal) remind(t *testing.T, debtID int64, step string) {
	t.Helper()
	_, err := l.run(t, l.debts.SendReminder, workflows.StepInput{DebtID: debtID, Step: ladderStep(t, step), PolicyVersion: 0})
	require.NoError(t, err)
}

func (l *legal) proof(t *testing.T, debtID int64) workflows.LegalProof {
	t.Helper()
	v, err := l.run(t, l.debts.CheckLegalProof, workflows.LegalClockInput{DebtID: debtID, Step: workflows.StepAccertamento,
		PayDays: workflows.DefaultPayDays, WaitDays: workflows.DefaultWaitDays})
	require.NoError(t, err)
	var p workflows.LegalProof
	require.NoError(t, v.Get(&p))
	return p
}

// The accertamento goes to the domicile INAD gives, not to the PEC of the campaign file; the
// lookup is kept with its answer's hash and done once; the PEC delivery receipt starts the clock.
func TestDomicileFromINAD(t *testing.T) {
	t.Parallel()
	l := newLegal(t, true)
	d := l.noticed(t, withPEC)
	l.registries.Set(d.DebtorFiscalCode, "mario.rossi@pec.inad.example.it")

	l.remind(t, d.ID, workflows.StepAccertamento)
	l.remind(t, d.ID, workflows.StepAccertamento) // a retry sends nothing more

	require.Len(t, l.pecMessagesTo("mario.rossi@pec.inad.example.it"), 1)
	require.Empty(t, l.pecMessagesTo(d.DebtorPec), "the file's PEC is only a fallback")
	require.Equal(t, 0, l.send.Sent(), "a digital domicile makes SEND unneeded")
	require.Equal(t, 1, l.registries.Lookups(), "looked up once")
	lookup, err := l.q.GetDomicileLookup(context.Background(), dbgen.GetDomicileLookupParams{DebtID: d.ID, Step: workflows.StepAccertamento})
	require.NoError(t, err)
	sum := sha256.Sum256(lookup.Answer)
	require.Equal(t, sum[:], lookup.Sha256)
	require.Equal(t, "INAD", lookup.Registry)
	require.Contains(t, string(lookup.Answer), d.DebtorFiscalCode)

	require.Equal(t, "the PEC delivery receipt (avvenuta consegna)", l.proof(t, d.ID).Waiting)
	delivered := time.Date(2027, time.February, 3, 10, 30, 0, 0, time.UTC)
	comm := l.reminderRow(t, d.ID, workflows.StepAccertamento)
	require.NoError(t, l.q.SetCommunicationDelivered(context.Background(), dbgen.SetCommunicationDeliveredParams{ID: comm.ID,
		DeliveredAt: pgtype.Timestamptz{Time: delivered, Valid: true}}))
	p := l.proof(t, d.ID)
	require.Equal(t, workflows.ProofPEC, p.By)
	require.True(t, p.At.Equal(delivered))
	require.Equal(t, "2027-04-04", p.PayBy.String())
	require.Equal(t, "2027-05-04", p.HandoverFrom.String())
	stored := l.reload(t, d.ID)
	require.Equal(t, "2027-04-04", stored.PayBy.Time.Format(time.DateOnly))
}

// An accertamento states the days of its ladder: here 90 to pay and 45 before the hand-over,
// in its PEC and in the SEND notification's payment date.
func TestAccertamentoStatesTheLaddersDays(t *testing.T) {
	t.Parallel()
	l := newLegal(t, false)
	d := l.noticed(t, withPEC)
	step := ladderStep(t, workflows.StepAccertamento)
	step.PayDays = 90
	_, err := l.run(t, l.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, WaitDays: 45})
	require.NoError(t, err)
	sent := l.pecMessagesTo(d.DebtorPec)
	require.Len(t, sent, 1)
	body := strings.ReplaceAll(string(sent[0].Raw), "=\r\n", "") // the soft line breaks of quoted-printable
	require.Contains(t, body, "Entro 90 giorni dalla notifica pu=C3=B2 pagare l'importo dovuto; entro 60 giorni")
}

// A company's domicile comes from INI-PEC, whose list is ready only at the second poll.
func TestDomicileFromINIPEC(t *testing.T) {
	t.Parallel()
	l := newLegal(t, false)
	d := l.noticed(t, func(p *dbgen.CreateDebtParams) {
		p.DebtorType, p.DebtorFiscalCode, p.DebtorName = "G", "01234567890", "Ditta Esempio Srl"
	})
	l.registries.Set("01234567890", "amministrazione@pec.ditta.example.it")
	l.remind(t, d.ID, workflows.StepSollecito)
	require.Len(t, l.pecMessagesTo("amministrazione@pec.ditta.example.it"), 1)
	require.Empty(t, l.messagesTo(d.DebtorEmail), "a sollecito by PEC to the domicile, not by email")
}

// Without a domicile the accertamento goes by SEND, once; the clock starts when SEND says the
// notification was perfected, and its legal facts are archived with their hashes.
func TestAccertamentoBySEND(t *testing.T) {
	t.Parallel()
	l := newLegal(t, true)
	d := l.noticed(t, withPEC)

	l.remind(t, d.ID, workflows.StepAccertamento)
	l.remind(t, d.ID, workflows.StepAccertamento)
	require.Equal(t, 1, l.send.Sent())
	require.Equal(t, []string{"010201P"}, l.send.Taxonomies(), "a tax's accertamento, the default code")
	require.Empty(t, l.pecMessagesTo(d.DebtorPec))
	n, err := l.q.GetSendNotification(context.Background(), dbgen.GetSendNotificationParams{DebtID: d.ID, Step: workflows.StepAccertamento})
	require.NoError(t, err)
	require.Equal(t, "REQUESTED", n.Status)
	require.Equal(t, "%PDF", string(n.Act[:4]))

	p := l.proof(t, d.ID)
	require.Empty(t, p.By)
	require.Contains(t, p.Waiting, "to be perfected (now DELIVERING)")

	l.clock.Advance(5 * 24 * time.Hour)
	p = l.proof(t, d.ID)
	require.Equal(t, workflows.ProofSEND, p.By)
	require.WithinDuration(t, l.clock.Now(), p.At, time.Second)
	facts, err := l.q.ListLegalFacts(context.Background(), d.ID)
	require.NoError(t, err)
	require.Len(t, facts, 2)
	require.Equal(t, []string{"SENDER_ACK", "DIGITAL_DELIVERY"}, []string{facts[0].Category, facts[1].Category})
	require.Equal(t, p, l.proof(t, d.ID), "the first proof stands")
}

// A notification SEND could not deliver leaves the debt without proof: recorded as failed.
func TestAccertamentoBySENDUnreachable(t *testing.T) {
	t.Parallel()
	l := newLegal(t, true)
	d := l.noticed(t, nil)
	l.send.Script(d.DebtorFiscalCode, sendsim.Outcome{Outcome: sendsim.Unreachable, AfterDays: 2})
	l.remind(t, d.ID, workflows.StepAccertamento)
	l.clock.Advance(2 * 24 * time.Hour)
	p := l.proof(t, d.ID)
	require.Equal(t, "SEND: UNREACHABLE", p.Failed)
	require.Empty(t, p.By)
	require.Equal(t, "SEND: UNREACHABLE", l.reload(t, d.ID).NoticeFailed)
}

// A notification SEND refuses (here: the service's taxonomy code is not one the comune may
// notify) is recorded REFUSED once, never requested again, and the legal clock sees no proof.
func TestAccertamentoBySENDRefused(t *testing.T) {
	t.Parallel()
	l := newLegal(t, true)
	services := slices.Clone(l.debts.Services)
	for i := range services {
		services[i].SENDTaxonomy = "019999P"
	}
	l.debts.Services = services
	d := l.noticed(t, nil)

	l.remind(t, d.ID, workflows.StepAccertamento)
	l.remind(t, d.ID, workflows.StepAccertamento)
	require.Zero(t, l.send.Sent())
	n, err := l.q.GetSendNotification(context.Background(), dbgen.GetSendNotificationParams{DebtID: d.ID, Step: workflows.StepAccertamento})
	require.NoError(t, err)
	require.Equal(t, "REFUSED", n.Status)
	require.Empty(t, n.RequestID)
	p := l.proof(t, d.ID)
	require.Empty(t, p.By)
	require.Equal(t, "SEND refused the notification", p.Failed)
	require.Empty(t, l.pecMessagesTo(d.DebtorPec), "not sent another way behind the office's back")
}

// Without SEND, a debtor without PEC gets the registered letter; its return card is the proof.
func TestReturnCardProof(t *testing.T) {
	t.Parallel()
	l := newLegal(t, false)
	d := l.noticed(t, nil)
	l.remind(t, d.ID, workflows.StepAccertamento)
	require.Contains(t, l.proof(t, d.ID).Waiting, "return card")
	letter := l.reminderRow(t, d.ID, workflows.StepAccertamento)
	require.Equal(t, "PRINT", letter.Status)
	_, err := l.q.InsertReturnCard(context.Background(), dbgen.InsertReturnCardParams{CommunicationID: letter.ID, Outcome: "delivered",
		CardDate: time.Date(2027, time.February, 10, 0, 0, 0, 0, time.UTC), EnteredBy: "user:operatore"})
	require.NoError(t, err)
	p := l.proof(t, d.ID)
	require.Equal(t, workflows.ProofReturnCard, p.By)
	require.Equal(t, "2027-04-11", p.PayBy.String())
}

// A request SEND took whose answer was lost (the worker died before recording it) is not sent
// again: the retry's request is a 409, and its id is read back.
func TestAccertamentoBySENDLostAnswer(t *testing.T) {
	t.Parallel()
	l := newLegal(t, true)
	d := l.noticed(t, nil)
	l.remind(t, d.ID, workflows.StepAccertamento)
	key := dbgen.GetSendNotificationParams{DebtID: d.ID, Step: workflows.StepAccertamento}
	first, err := l.q.GetSendNotification(context.Background(), key)
	require.NoError(t, err)
	require.NotEmpty(t, first.RequestID)
	_, err = l.pool.Exec(context.Background(), `UPDATE send_notifications SET request_id = '', status = 'PREPARED' WHERE id = $1`, first.ID)
	require.NoError(t, err)

	l.remind(t, d.ID, workflows.StepAccertamento)

	require.Equal(t, 1, l.send.Sent(), "notified once")
	again, err := l.q.GetSendNotification(context.Background(), key)
	require.NoError(t, err)
	require.Equal(t, first.RequestID, again.RequestID)
	require.Equal(t, "REQUESTED", again.Status)
}
