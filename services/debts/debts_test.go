package debts

import (
	"context"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/devstack/testdb"
	"incasso/domain/date"
	"incasso/domain/pagopa"
	"incasso/workflows"
)

var (
	today    = date.Date{Year: 2026, Month: time.November, Day: 20}
	creditor = config.Creditor{Name: "Comune di Esempio", FiscalCode: "00000000000", IBAN: "IT60X0542811101000000123456", Segregation: 1}
)

func services(t *testing.T) config.Services {
	t.Helper()
	s, err := config.ParseServices(config.DefaultServices)
	require.NoError(t, err)
	return s
}

func valid() New {
	return New{
		IUPD: "TARI-2026-1", ServiceCode: "TARI", Amount: 12345, DueDate: date.Date{Year: 2026, Month: time.December, Day: 31},
		Description: "TARI 2026", Debtor: Debtor{Type: "F", FiscalCode: "RSSMRA85T10A562S", FullName: "Mario Rossi", Email: "mario@example.it"},
	}
}

func fields(errs []FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.Empty(t, valid().Validate(today, creditor, services(t)))

	n := valid()
	n.Debtor.FiscalCode, n.Debtor.FullName, n.Description = "  rssmra85t10a562s ", " Mario Rossi ", " TARI 2026 "
	n.Normalize()
	require.Equal(t, "RSSMRA85T10A562S", n.Debtor.FiscalCode)
	require.Equal(t, "Mario Rossi", n.Debtor.FullName)
	require.Empty(t, n.Validate(today, creditor, services(t)))

	for _, tt := range []struct {
		mutate func(*New)
		field  string
	}{
		{func(n *New) { n.IUPD = "with space" }, "iupd"},
		{func(n *New) { n.ServiceCode = "NOPE" }, "serviceCode"},
		{func(n *New) { n.Debtor.Type = "X" }, "debtor.type"},
		{func(n *New) { n.Debtor.FiscalCode = "RSSMRA85T10A562X" }, "debtor.fiscalCode"},
		{func(n *New) { n.Debtor.FullName = "Mario\nRossi" }, "debtor.fullName"},
		{func(n *New) { n.Debtor.Email = "mario" }, "debtor.email"},
		{func(n *New) { n.Debtor.PEC = "not a pec" }, "debtor.pec"},
		{func(n *New) { n.Amount = 0 }, "amountCents"},
		{func(n *New) { n.Amount = MaxAmount + 1 }, "amountCents"},
		{func(n *New) { n.DueDate = date.Date{} }, "dueDate"},
		{func(n *New) { n.DueDate = date.Date{Year: 2026, Month: time.November, Day: 19} }, "dueDate"},
		{func(n *New) { n.Description = strings.Repeat("x", 141) }, "description"},
	} {
		n := valid()
		tt.mutate(&n)
		errs := n.Validate(today, creditor, services(t))
		require.Equal(t, []string{tt.field}, fields(errs), "%+v", n)
		require.NotContains(t, errs[0].Message, "RSSMRA85T10A562", "no personal data in messages")
	}

	// An amount too small to give each beneficiary a cent.
	split := config.Services{{Code: "TARI", Transfers: []config.Beneficiary{
		{Taxonomy: "9/0101108TS/", BasisPoints: 9500}, {Taxonomy: "9/0201102IM/", BasisPoints: 500},
	}}}
	n = valid()
	n.Amount = 19
	require.Equal(t, []string{"amountCents"}, fields(n.Validate(today, creditor, split)))
	n.Amount = 20
	require.Empty(t, n.Validate(today, creditor, split))
}

func TestStore(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	q := dbgen.New(pool)
	ctx := context.Background()

	d, created, err := Store(ctx, q, creditor, valid())
	require.NoError(t, err)
	require.True(t, created)
	nav, err := pagopa.ParseNAV(d.Nav)
	require.NoError(t, err)
	require.Equal(t, creditor.Segregation, nav.Segregation)
	require.False(t, d.CampaignID.Valid)

	again, created, err := Store(ctx, q, creditor, valid())
	require.NoError(t, err)
	require.False(t, created, "the same debt again is the one stored")
	require.Equal(t, d.ID, again.ID)
	require.Equal(t, d.Nav, again.Nav)

	other := valid()
	other.Amount++
	_, _, err = Store(ctx, q, creditor, other)
	require.ErrorIs(t, err, ErrConflict)

	second := valid()
	second.IUPD = "TARI-2026-2"
	d2, created, err := Store(ctx, q, creditor, second)
	require.NoError(t, err)
	require.True(t, created)
	nav2, err := pagopa.ParseNAV(d2.Nav)
	require.NoError(t, err)
	require.Equal(t, nav.Base+1, nav2.Base, "the retry and the conflict drew no base from the creditor's sequence")
}

func navOf(t *testing.T, segregation int, base int64) string {
	t.Helper()
	n, err := pagopa.NewNAV(segregation, base)
	require.NoError(t, err)
	return n.String()
}

func TestValidatePostalAndAdopted(t *testing.T) {
	t.Parallel()
	post := valid()
	post.Debtor.Email = ""
	post.Debtor.Address = Address{Street: " Via  Roma 1 ", PostalCode: "21013", City: "Gallarate", Province: "va"}
	post.Normalize()
	require.Equal(t, Address{Street: "Via Roma 1", PostalCode: "21013", City: "Gallarate", Province: "VA"}, post.Debtor.Address)
	require.Empty(t, post.Validate(today, creditor, services(t)))
	require.Equal(t, []string{"Via Roma 1", "21013 Gallarate (VA)"}, post.Debtor.Address.Lines())

	pecOnly := valid()
	pecOnly.Debtor.Email, pecOnly.Debtor.PEC = "", "mario@pec.example.it"
	require.Empty(t, pecOnly.Validate(today, creditor, services(t)))

	adopted := valid()
	adopted.NAV, adopted.GPDStatus = navOf(t, creditor.Segregation, 123), "PUBLISHED"
	require.Empty(t, adopted.Validate(today, creditor, services(t)))
	require.Equal(t, adopted.NAV, adopted.AdoptedNAV())
	byIUV := valid()
	byIUV.IUV, byIUV.GPDStatus = adopted.NAV[1:], "DRAFT"
	require.Empty(t, byIUV.Validate(today, creditor, services(t)))
	require.Equal(t, adopted.NAV, byIUV.AdoptedNAV())

	nav := adopted.NAV
	for _, tt := range []struct {
		mutate func(*New)
		fields []string
	}{
		{func(n *New) { n.Debtor.Email = "" }, []string{"debtor.email"}},
		{func(n *New) { n.Debtor.Address = Address{Street: "Via Roma 1"} }, []string{"debtor.address.postalCode", "debtor.address.city", "debtor.address.province"}},
		{func(n *New) {
			n.Debtor.Address = Address{Street: "Via\nRoma", PostalCode: "2101A", City: strings.Repeat("x", 61), Province: "V1"}
		}, []string{"debtor.address.street", "debtor.address.postalCode", "debtor.address.city", "debtor.address.province"}},
		{func(n *New) { n.NAV, n.GPDStatus = nav[:17], "VALID" }, []string{"nav"}},
		{func(n *New) { n.NAV, n.GPDStatus = "0"+nav[1:], "VALID" }, []string{"nav"}},
		{func(n *New) { n.NAV, n.GPDStatus = nav[:16]+"00", "VALID" }, []string{"nav"}},
		{func(n *New) { n.NAV, n.GPDStatus = navOf(t, 2, 123), "VALID" }, []string{"nav"}},
		{func(n *New) { n.IUV, n.GPDStatus = nav[1:16]+"00", "VALID" }, []string{"iuv"}},
		{func(n *New) { n.NAV, n.IUV, n.GPDStatus = nav, navOf(t, 1, 124)[1:], "VALID" }, []string{"iuv"}},
		{func(n *New) { n.NAV = nav }, []string{"gpdStatus"}},
		{func(n *New) { n.NAV, n.GPDStatus = nav, "PAID" }, []string{"gpdStatus"}},
		{func(n *New) { n.GPDStatus = "VALID" }, []string{"gpdStatus"}},
	} {
		n := valid()
		tt.mutate(&n)
		errs := n.Validate(today, creditor, services(t))
		require.Equal(t, tt.fields, fields(errs), "%+v", n)
		for _, e := range errs {
			require.NotContains(t, e.Message, nav[3:16], "no notice number in messages")
		}
	}
}

func TestStoreAdopted(t *testing.T) {
	t.Parallel()
	pool, _ := testdb.New(t)
	q := dbgen.New(pool)
	ctx := context.Background()

	// The sequence's next base is 1: a position of the old platform holds it.
	old := valid()
	old.IUPD, old.NAV, old.GPDStatus = "IMU-OLD-1", navOf(t, creditor.Segregation, 1), "VALID"
	old.Debtor.Email, old.Debtor.Address = "", Address{Street: "Via Roma 1", PostalCode: "21013", City: "Gallarate", Province: "VA"}
	d, created, err := Store(ctx, q, creditor, old)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, []string{old.NAV, "VALID", "", "Via Roma 1"}, []string{d.Nav, d.GpdAdopted, d.DebtorEmail, d.DebtorStreet})
	require.Equal(t, old.Debtor.Address, AddressOf(d))
	again, created, err := Store(ctx, q, creditor, old)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, d.ID, again.ID)

	moved := old
	moved.Debtor.Address.Street = "Via Verdi 2"
	_, _, err = Store(ctx, q, creditor, moved)
	require.ErrorIs(t, err, ErrConflict, "another address is another debt")

	// The same notice number for another iupd: refused, nothing stored.
	twice := old
	twice.IUPD = "IMU-OLD-2"
	_, _, err = Store(ctx, q, creditor, twice)
	require.ErrorIs(t, err, ErrNAVTaken)
	_, err = q.GetDebtByIUPD(ctx, dbgen.GetDebtByIUPDParams{EcFiscalCode: creditor.FiscalCode, Iupd: "IMU-OLD-2"})
	require.Error(t, err)

	// A new debt draws past the number adopted.
	fresh, created, err := Store(ctx, q, creditor, valid())
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, navOf(t, creditor.Segregation, 2), fresh.Nav)
	require.Empty(t, fresh.GpdAdopted)
}

// The regular expressions and the RFC 5322 parser that ValidIUPD and PlainEmail stand for.
var (
	iupdReference  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,35}$`)
	emailReference = regexp.MustCompile(`^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$`) // paForNode stEMail
)

func plainEmailReference(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && emailReference.MatchString(s) && len(s) <= 256
}

// FuzzChecksMatchReference: the hand-written checks accept exactly what the regular
// expressions (and, for emails, net/mail) accept.
func FuzzChecksMatchReference(f *testing.F) {
	for _, s := range []string{"mario.rossi@example.it", "a@b", ".a@b.it", "a.@b.it", "a..b@c.it", "a@b..it", "a@.b", "a@b.",
		"a+b@c-d.it", "a b@c.it", "a@b@c", "@b.it", "a@", "TARI-2026_0001.x", "", strings.Repeat("x", 36), "àè@x.it"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := PlainEmail(s), plainEmailReference(s); got != want {
			t.Fatalf("PlainEmail(%q) = %v, the reference says %v", s, got, want)
		}
		if got, want := ValidIUPD(s), iupdReference.MatchString(s); got != want {
			t.Fatalf("ValidIUPD(%q) = %v, the reference says %v", s, got, want)
		}
	})
}

// startRecorder is a Starter that keeps the options of the last start.
type startRecorder struct{ options client.StartWorkflowOptions }

func (s *startRecorder) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	s.options = o
	return nil, nil
}

func TestStartSetsCampaignID(t *testing.T) {
	var rec startRecorder
	d := dbgen.DebtPosition{ID: 1, EcFiscalCode: "00000000000", Iupd: "TARI-1", ServiceCode: "TARI", AmountCents: 100,
		CampaignID: pgtype.Int8{Int64: 42, Valid: true}}
	require.NoError(t, Start(context.Background(), &rec, "q", d))
	id, ok := rec.options.TypedSearchAttributes.GetInt64(workflows.SearchCampaignID)
	require.True(t, ok)
	require.EqualValues(t, 42, id)

	d.CampaignID = pgtype.Int8{}
	require.NoError(t, Start(context.Background(), &rec, "q", d))
	_, ok = rec.options.TypedSearchAttributes.GetInt64(workflows.SearchCampaignID)
	require.False(t, ok, "a debt created alone has no campaign")
}
