package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"incasso/db/dbgen"
	"incasso/domain/reminders"
	"incasso/workflows"
)

// mimePart is a leaf of a message's MIME tree, its body decoded.
type mimePart struct {
	mediaType   string
	disposition string
	filename    string
	body        []byte
}

// mimeParts walks a message's MIME tree and returns its leaves in order, with the media types
// of the multipart containers it went through.
func mimeParts(t *testing.T, raw []byte) (leaves []mimePart, containers []string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	var walk func(h textproto.MIMEHeader, body io.Reader)
	walk = func(h textproto.MIMEHeader, body io.Reader) {
		mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		require.NoError(t, err)
		if strings.HasPrefix(mediaType, "multipart/") {
			containers = append(containers, mediaType)
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart() // decodes quoted-printable
				if err == io.EOF {
					return
				}
				require.NoError(t, err)
				walk(p.Header, p)
			}
		}
		if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		leaf := mimePart{mediaType: mediaType, body: b}
		if cd := h.Get("Content-Disposition"); cd != "" {
			disp, dparams, err := mime.ParseMediaType(cd)
			require.NoError(t, err)
			leaf.disposition, leaf.filename = disp, dparams["filename"]
		}
		leaves = append(leaves, leaf)
	}
	walk(textproto.MIMEHeader(msg.Header), msg.Body)
	return leaves, containers
}

// attachments are the leaves of parts with an attachment disposition.
func attachments(parts []mimePart) []mimePart {
	var out []mimePart
	for _, p := range parts {
		if p.disposition == "attachment" {
			out = append(out, p)
		}
	}
	return out
}

func mediaTypes(parts []mimePart) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.mediaType
	}
	return out
}

// ladderStep is the default ladder's step of that name.
func ladderStep(t *testing.T, name string) workflows.Step {
	t.Helper()
	for _, s := range workflows.DefaultSteps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in the default ladder", name)
	return workflows.Step{}
}

// withPEC gives the debtor a PEC address of its own, derived from its email.
func withPEC(p *dbgen.CreateDebtParams) {
	p.DebtorPec = strings.Replace(p.DebtorEmail, "@example.it", "@pec.example.it", 1)
}

// noticed is an issued debt whose notice has been rendered, as the workflow leaves it before
// the first reminder.
func (f *fixture) noticed(t *testing.T, mutate func(*dbgen.CreateDebtParams)) dbgen.DebtPosition {
	t.Helper()
	d := f.issued(t, mutate)
	_, err := f.debts.RenderNotice(context.Background(), d.ID)
	require.NoError(t, err)
	return d
}

func (f *fixture) notice(t *testing.T, debtID int64) dbgen.Document {
	t.Helper()
	doc, err := f.q.GetLatestDocument(context.Background(), dbgen.GetLatestDocumentParams{DebtID: debtID, Kind: "notice"})
	require.NoError(t, err)
	return doc
}

// reminderRow is the archived message of a step (its outbox key is debt/<id>/<step>/1).
func (f *fixture) reminderRow(t *testing.T, debtID int64, step string) dbgen.Communication {
	t.Helper()
	c, err := f.q.GetCommunicationByDedupeKey(context.Background(), fmt.Sprintf("debt/%d/%s/1", debtID, step))
	require.NoError(t, err)
	return c
}

func (f *fixture) communications(t *testing.T, debtID int64) []dbgen.ListCommunicationsByDebtRow {
	t.Helper()
	list, err := f.q.ListCommunicationsByDebt(context.Background(), debtID)
	require.NoError(t, err)
	return list
}

// handovers counts the debt's rows in enforcement_handovers and returns the amount of the last.
func (f *fixture) handovers(t *testing.T, debtID int64) (n int, amount int64) {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT amount_cents FROM enforcement_handovers WHERE debt_id = $1`, debtID)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		require.NoError(t, rows.Scan(&amount))
		n++
	}
	require.NoError(t, rows.Err())
	return n, amount
}

// requireNoLadderStep checks that no step has been recorded on the debt.
func (f *fixture) requireNoLadderStep(t *testing.T, debtID int64) {
	t.Helper()
	d := f.reload(t, debtID)
	require.Empty(t, d.LadderStep)
	require.False(t, d.LadderStepAt.Valid)
}

// requireLadderStep checks that step was recorded on the debt between before and now.
func (f *fixture) requireLadderStep(t *testing.T, debtID int64, step string, before time.Time) {
	t.Helper()
	d := f.reload(t, debtID)
	require.Equal(t, step, d.LadderStep)
	require.True(t, d.LadderStepAt.Valid, "ladder_step_at is set")
	require.WithinRange(t, d.LadderStepAt.Time, before.Add(-time.Second), time.Now().Add(time.Second))
}

func TestLoadPolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := *f.debts
	a.LadderDay = 3 * time.Second
	load := func(t *testing.T, debtID int64) workflows.Policy {
		t.Helper()
		val, err := activityEnv(&a).ExecuteActivity(a.LoadPolicy, debtID)
		require.NoError(t, err)
		var p workflows.Policy
		require.NoError(t, val.Get(&p))
		return p
	}
	policyVersion := func(t *testing.T, debtID int64) pgtype.Int4 {
		t.Helper()
		return f.reload(t, debtID).PolicyVersion
	}

	d := f.insertDebt(t, nil)
	require.False(t, policyVersion(t, d.ID).Valid, "a new debt follows no policy yet")

	// No stored policy: the built-in ladder, version 0.
	p := load(t, d.ID)
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 0, Steps: workflows.DefaultSteps, DayLength: 3 * time.Second}, p)
	require.Equal(t, pgtype.Int4{Int32: 0, Valid: true}, policyVersion(t, d.ID))

	// Two versions for TARI, one for another service.
	v1 := []workflows.Step{{Name: workflows.StepCourtesy, OffsetDays: -5, Channel: workflows.ChannelEmail}}
	v2 := []workflows.Step{
		{Name: workflows.StepSollecito, OffsetDays: 10, Channel: workflows.ChannelEmail},
		{Name: workflows.StepEnforcement, OffsetDays: 200, Channel: workflows.ChannelRecord},
	}
	imu := []workflows.Step{{Name: workflows.StepAccertamento, OffsetDays: 30, Channel: workflows.ChannelPECOrPost}}
	for _, in := range []struct {
		service string
		steps   []workflows.Step
	}{{"TARI", v1}, {"TARI", v2}, {"IMU", imu}} {
		b, err := json.Marshal(in.steps)
		require.NoError(t, err)
		_, err = f.q.InsertPolicy(ctx, dbgen.InsertPolicyParams{ServiceCode: in.service, Steps: b, CreatedBy: "test"})
		require.NoError(t, err)
	}

	p = load(t, d.ID)
	require.Equal(t, workflows.Policy{ServiceCode: "TARI", Version: 2, Steps: v2, DayLength: 3 * time.Second}, p)
	require.Equal(t, pgtype.Int4{Int32: 2, Valid: true}, policyVersion(t, d.ID))

	imuDebt := f.insertDebt(t, func(p *dbgen.CreateDebtParams) { p.ServiceCode = "IMU" })
	p = load(t, imuDebt.ID)
	require.Equal(t, workflows.Policy{ServiceCode: "IMU", Version: 1, Steps: imu, DayLength: 3 * time.Second}, p)
	require.Equal(t, pgtype.Int4{Int32: 1, Valid: true}, policyVersion(t, imuDebt.ID))
	require.Equal(t, pgtype.Int4{Int32: 2, Valid: true}, policyVersion(t, d.ID), "another debt's load leaves this one alone")

	// Production: real days.
	p, err := f.debts.LoadPolicy(ctx, d.ID)
	require.NoError(t, err)
	require.Zero(t, p.DayLength)

	_, err = f.run(t, f.debts.LoadPolicy, int64(987654321))
	requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
}

func TestSendReminderCourtesy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.noticed(t, withPEC) // a PEC address does not change the channel of a courtesy email
	in := workflows.StepInput{DebtID: d.ID, Step: ladderStep(t, workflows.StepCourtesy), PolicyVersion: 0}

	before := time.Now()
	_, err := f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)

	msgs := f.waitMessages(t, d.DebtorEmail, 1)
	require.Len(t, msgs, 1, "exactly one message")
	require.Len(t, f.sink.Messages(), 1)
	require.Empty(t, f.pecSink.Messages(), "a courtesy reminder is plain email")
	msg := msgs[0]
	require.Equal(t, mailFrom, msg.From)
	require.Equal(t, []string{d.DebtorEmail}, msg.To)
	require.Contains(t, msg.Subject, "Promemoria")

	parts, containers := mimeParts(t, msg.Raw)
	require.Equal(t, []string{"multipart/mixed", "multipart/alternative"}, containers)
	require.Equal(t, []string{"text/plain", "text/html", "application/pdf"}, mediaTypes(parts))
	require.Contains(t, string(parts[0].body), d.DebtorName)
	require.Contains(t, string(parts[1].body), "<html", "the HTML alternative is a document")
	att := attachments(parts)
	require.Len(t, att, 1)
	doc := f.notice(t, d.ID)
	require.Equal(t, doc.Filename, att[0].filename)
	require.Equal(t, "avviso-"+d.Nav+".pdf", att[0].filename)
	require.Equal(t, doc.Content, att[0].body, "the notice PDF is attached as stored")

	c := f.reminderRow(t, d.ID, workflows.StepCourtesy)
	require.Equal(t, "courtesy", c.Kind)
	require.Equal(t, "courtesy", c.Step)
	require.Equal(t, "email", c.Channel)
	require.Equal(t, "SENT", c.Status)
	require.True(t, c.SentAt.Valid)
	require.Equal(t, d.DebtorEmail, c.Recipient)
	require.Equal(t, mailFrom, c.Sender)
	require.Equal(t, msg.Subject, c.Subject)
	sum := sha256.Sum256(msg.Raw)
	require.Equal(t, sum[:], c.Sha256, "the hash of the exact bytes the relay received")
	require.Equal(t, msg.Raw, c.Raw)
	require.Contains(t, string(c.Raw), "Message-ID: <"+c.MessageID+">")
	f.requireLadderStep(t, d.ID, workflows.StepCourtesy, before)

	// A retry (or a replay) sends nothing more.
	_, err = f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)
	require.Len(t, f.sink.Messages(), 1)
	require.Len(t, f.communications(t, d.ID), 1)
	require.Equal(t, c.ID, f.reminderRow(t, d.ID, workflows.StepCourtesy).ID)
}

func TestSendReminderSollecito(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	step := ladderStep(t, workflows.StepSollecito)
	require.Equal(t, workflows.ChannelPECOrMail, step.Channel)

	t.Run("PEC", func(t *testing.T) {
		d := f.noticed(t, withPEC)
		before := time.Now()
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
		require.NoError(t, err)

		msgs := f.pecMessagesTo(d.DebtorPec)
		require.Len(t, msgs, 1, "sent by the PEC relay")
		require.Empty(t, f.messagesTo(d.DebtorPec), "not by the ordinary relay")
		require.Empty(t, f.messagesTo(d.DebtorEmail))
		require.Empty(t, f.pecMessagesTo(d.DebtorEmail))
		msg := msgs[0]
		require.Equal(t, pecFrom, msg.From, "from the comune's PEC mailbox")
		require.Contains(t, msg.Subject, "Sollecito")
		header, err := netmail.ReadMessage(bytes.NewReader(msg.Raw))
		require.NoError(t, err)
		from, err := netmail.ParseAddress(header.Header.Get("From"))
		require.NoError(t, err)
		require.Equal(t, pecFrom, from.Address)
		to, err := netmail.ParseAddress(header.Header.Get("To"))
		require.NoError(t, err)
		require.Equal(t, d.DebtorPec, to.Address)

		parts, _ := mimeParts(t, msg.Raw)
		att := attachments(parts)
		require.Len(t, att, 1)
		require.Equal(t, f.notice(t, d.ID).Content, att[0].body, "the notice is attached again")

		c := f.reminderRow(t, d.ID, workflows.StepSollecito)
		require.Equal(t, "sollecito", c.Kind)
		require.Equal(t, "sollecito", c.Step)
		require.Equal(t, "pec", c.Channel)
		require.Equal(t, "SENT", c.Status)
		require.Equal(t, d.DebtorPec, c.Recipient)
		require.Equal(t, pecFrom, c.Sender)
		sum := sha256.Sum256(msg.Raw)
		require.Equal(t, sum[:], c.Sha256)
		f.requireLadderStep(t, d.ID, workflows.StepSollecito, before)

		_, err = f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
		require.NoError(t, err)
		require.Len(t, f.pecMessagesTo(d.DebtorPec), 1, "sent once")
	})

	t.Run("email without PEC", func(t *testing.T) {
		d := f.noticed(t, nil)
		require.Empty(t, d.DebtorPec)
		before := time.Now()
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
		require.NoError(t, err)

		msgs := f.messagesTo(d.DebtorEmail)
		require.Len(t, msgs, 1)
		require.Empty(t, f.pecMessagesTo(d.DebtorEmail))
		require.Equal(t, mailFrom, msgs[0].From)
		require.Contains(t, msgs[0].Subject, "Sollecito")

		c := f.reminderRow(t, d.ID, workflows.StepSollecito)
		require.Equal(t, "email", c.Channel)
		require.Equal(t, "SENT", c.Status)
		require.Equal(t, d.DebtorEmail, c.Recipient)
		require.Equal(t, mailFrom, c.Sender)
		sum := sha256.Sum256(msgs[0].Raw)
		require.Equal(t, sum[:], c.Sha256)
		f.requireLadderStep(t, d.ID, workflows.StepSollecito, before)
	})

	t.Run("email when the ladder says email", func(t *testing.T) {
		d := f.noticed(t, withPEC)
		byEmail := workflows.Step{Name: workflows.StepSollecito, OffsetDays: 15, Channel: workflows.ChannelEmail}
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: byEmail, PolicyVersion: 1})
		require.NoError(t, err)
		require.Len(t, f.messagesTo(d.DebtorEmail), 1)
		require.Empty(t, f.pecMessagesTo(d.DebtorPec))
		require.Equal(t, "email", f.reminderRow(t, d.ID, workflows.StepSollecito).Channel)
	})

	// A ladder that lists the post reaches a debtor with no e-mail and no PEC by a letter for
	// the ordinary post, archived as printed; the default ladder does not post a sollecito.
	byPost := workflows.Step{Name: workflows.StepSollecito, OffsetDays: 15,
		Channels: []reminders.Channel{reminders.ChannelIO, reminders.ChannelEmail, reminders.ChannelPEC, reminders.ChannelPost}}
	postOnly := func(p *dbgen.CreateDebtParams) { // no e-mail, no PEC: a postal address
		p.DebtorEmail, p.DebtorStreet, p.DebtorPostalCode, p.DebtorCity, p.DebtorProvince = "", "Via Roma 1", "21013", "Gallarate", "VA"
	}
	sollecitos := func(debtID int64) (n int) {
		for _, c := range f.communications(t, debtID) {
			if c.Kind == workflows.StepSollecito {
				n++
			}
		}
		return n
	}
	t.Run("post without email or PEC", func(t *testing.T) {
		d := f.noticed(t, postOnly)
		for range 2 {
			_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: byPost, PolicyVersion: 2})
			require.NoError(t, err)
		}
		c := f.reminderRow(t, d.ID, workflows.StepSollecito)
		require.Equal(t, []string{"post", "PRINT", "posta ordinaria: " + d.DebtorName}, []string{c.Channel, c.Status, c.Recipient})
		require.Contains(t, c.Subject, "Sollecito di pagamento SOL/")
		require.True(t, bytes.HasPrefix(c.Raw, []byte("%PDF-")), "the letter itself is archived")
		sum := sha256.Sum256(c.Raw)
		require.Equal(t, sum[:], c.Sha256)
		require.Equal(t, 1, sollecitos(d.ID), "one letter, however often the step runs")
	})
	t.Run("no post unless the ladder lists it", func(t *testing.T) {
		d := f.noticed(t, postOnly)
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
		require.NoError(t, err)
		require.Zero(t, sollecitos(d.ID))
	})
}

func TestSendReminderAccertamento(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	step := ladderStep(t, workflows.StepAccertamento)
	require.Equal(t, workflows.ChannelPECOrPost, step.Channel)

	t.Run("PEC", func(t *testing.T) {
		d := f.issued(t, withPEC)
		before := time.Now()
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
		require.NoError(t, err)

		msgs := f.pecMessagesTo(d.DebtorPec)
		require.Len(t, msgs, 1)
		require.Empty(t, f.messagesTo(d.DebtorPec))
		require.Empty(t, f.messagesTo(d.DebtorEmail))
		msg := msgs[0]
		require.Equal(t, pecFrom, msg.From)
		require.Contains(t, strings.ToLower(msg.Subject), "accertamento esecutivo")

		parts, _ := mimeParts(t, msg.Raw)
		att := attachments(parts)
		require.Len(t, att, 1)
		require.Equal(t, "application/pdf", att[0].mediaType)
		require.Equal(t, "accertamento-"+d.Nav+".pdf", att[0].filename)
		require.True(t, bytes.HasPrefix(att[0].body, []byte("%PDF")), "the letter is a PDF")

		c := f.reminderRow(t, d.ID, workflows.StepAccertamento)
		require.Equal(t, "accertamento", c.Kind)
		require.Equal(t, "pec", c.Channel)
		require.Equal(t, "SENT", c.Status)
		require.Equal(t, d.DebtorPec, c.Recipient)
		require.Equal(t, pecFrom, c.Sender)
		sum := sha256.Sum256(msg.Raw)
		require.Equal(t, sum[:], c.Sha256)
		f.requireLadderStep(t, d.ID, workflows.StepAccertamento, before)
	})

	t.Run("letter without PEC", func(t *testing.T) {
		d := f.issued(t, nil)
		before := time.Now()
		in := workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0}
		_, err := f.run(t, f.debts.SendReminder, in)
		require.NoError(t, err)

		c := f.reminderRow(t, d.ID, workflows.StepAccertamento)
		require.Equal(t, "accertamento", c.Kind)
		require.Equal(t, "accertamento", c.Step)
		require.Equal(t, "post", c.Channel)
		require.Equal(t, "PRINT", c.Status, "waiting for the print room")
		require.False(t, c.SentAt.Valid)
		require.True(t, bytes.HasPrefix(c.Raw, []byte("%PDF")), "the archive holds the letter itself")
		sum := sha256.Sum256(c.Raw)
		require.Equal(t, sum[:], c.Sha256)
		require.Contains(t, c.Recipient, d.DebtorName)
		f.requireLadderStep(t, d.ID, workflows.StepAccertamento, before)

		// Nothing went over SMTP, and a retry neither sends nor prints it twice.
		a := *f.debts
		a.Mail, a.PEC = deadRelay(t), deadRelay(t)
		_, err = activityEnv(&a).ExecuteActivity(a.SendReminder, in)
		require.NoError(t, err)
		require.Empty(t, f.messagesTo(d.DebtorEmail))
		require.Empty(t, f.pecMessagesTo(d.DebtorEmail))
		require.Len(t, f.communications(t, d.ID), 1)
		again := f.reminderRow(t, d.ID, workflows.StepAccertamento)
		require.Equal(t, "PRINT", again.Status)
		require.Equal(t, c.Raw, again.Raw)
	})
	require.Empty(t, f.sink.Messages(), "no accertamento goes by ordinary email")
}

func TestSendReminderEnforcement(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.issued(t, func(p *dbgen.CreateDebtParams) { withPEC(p); p.AmountCents = 45678 })
	in := workflows.StepInput{DebtID: d.ID, Step: ladderStep(t, workflows.StepEnforcement), PolicyVersion: 0}
	require.Equal(t, workflows.ChannelRecord, in.Step.Channel)

	before := time.Now()
	_, err := f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)
	n, amount := f.handovers(t, d.ID)
	require.Equal(t, 1, n)
	require.Equal(t, int64(45678), amount, "handed over for the debt's amount")
	f.requireLadderStep(t, d.ID, workflows.StepEnforcement, before)

	_, err = f.run(t, f.debts.SendReminder, in)
	require.NoError(t, err)
	n, _ = f.handovers(t, d.ID)
	require.Equal(t, 1, n, "handed over once")

	require.Empty(t, f.sink.Messages(), "no message")
	require.Empty(t, f.pecSink.Messages(), "no message")
	require.Empty(t, f.communications(t, d.ID))
}

func TestSendReminderSettledDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	settle := map[string]func(t *testing.T, id int64){
		"paid": func(t *testing.T, id int64) {
			settle(t, f.q, id, time.Now())
		},
		"cancelled": func(t *testing.T, id int64) {
			_, err := f.q.CancelDebt(ctx, dbgen.CancelDebtParams{ID: id, CancelReason: pgtype.Text{String: "duplicate", Valid: true}})
			require.NoError(t, err)
		},
	}
	for name, settle := range settle {
		for _, pec := range []bool{false, true} {
			for _, step := range workflows.DefaultSteps {
				t.Run(fmt.Sprintf("%s/%s/pec=%v", name, step.Name, pec), func(t *testing.T) {
					mutate := func(*dbgen.CreateDebtParams) {}
					if pec {
						mutate = withPEC
					}
					d := f.noticed(t, mutate)
					settle(t, d.ID)
					_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: d.ID, Step: step, PolicyVersion: 0})
					require.NoError(t, err, "nothing to do is not a failure")
					require.Empty(t, f.messagesTo(d.DebtorEmail))
					require.Empty(t, f.pecMessagesTo(d.DebtorPec))
					require.Empty(t, f.communications(t, d.ID), "nothing archived, not even a letter")
					n, _ := f.handovers(t, d.ID)
					require.Zero(t, n, "not handed over")
					f.requireNoLadderStep(t, d.ID)
				})
			}
		}
	}
	require.Empty(t, f.sink.Messages())
	require.Empty(t, f.pecSink.Messages())
}

func TestSendReminderRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	for _, tc := range []struct {
		name   string
		step   string
		mutate func(*dbgen.CreateDebtParams)
	}{
		{"email", workflows.StepCourtesy, func(p *dbgen.CreateDebtParams) {
			p.DebtorEmail = fmt.Sprintf("nobody%d%s", f.emails.Add(1), rejectedDomain)
		}},
		{"PEC", workflows.StepSollecito, func(p *dbgen.CreateDebtParams) {
			p.DebtorPec = fmt.Sprintf("nobody%d%s", f.emails.Add(1), rejectedDomain)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := f.noticed(t, tc.mutate)
			in := workflows.StepInput{DebtID: d.ID, Step: ladderStep(t, tc.step), PolicyVersion: 0}
			_, err := f.run(t, f.debts.SendReminder, in)
			requireNonRetryable(t, err, workflows.ErrTypeMailRejected)
			require.NotContains(t, err.Error(), "nobody", "errors carry no personal data")

			c := f.reminderRow(t, d.ID, tc.step)
			require.Equal(t, "FAILED", c.Status)
			require.Equal(t, "smtp rcpt 550", c.Failure)
			require.False(t, c.SentAt.Valid)

			// A retry gives the same answer without asking the relays.
			a := *f.debts
			a.Mail, a.PEC = deadRelay(t), deadRelay(t)
			_, err = activityEnv(&a).ExecuteActivity(a.SendReminder, in)
			requireNonRetryable(t, err, workflows.ErrTypeMailRejected)
			require.Equal(t, "FAILED", f.reminderRow(t, d.ID, tc.step).Status)
			require.Len(t, f.communications(t, d.ID), 1)
		})
	}
	require.Empty(t, f.sink.Messages())
	require.Empty(t, f.pecSink.Messages())
}

func TestSendReminderUnknownDebt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, step := range workflows.DefaultSteps {
		_, err := f.run(t, f.debts.SendReminder, workflows.StepInput{DebtID: 987654321, Step: step})
		requireNonRetryable(t, err, workflows.ErrTypeInvalidInput)
	}
}
