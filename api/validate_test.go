package api

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/services/debts"
)

var validateToday = date.Date{Year: 2026, Month: time.November, Day: 20}

// validateConfig is the creditor and the default services the validation tests check against.
func validateConfig(t *testing.T) config.Config {
	t.Helper()
	services, err := config.ParseServices(config.DefaultServices)
	require.NoError(t, err)
	return config.Config{Services: services, Creditor: config.Creditor{FiscalCode: "00000000000", IBAN: "IT60X0542811101000000123456"}}
}

func fieldsOf(errs []FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestValidateRejectsEachBadField(t *testing.T) {
	t.Parallel()
	cfg := validateConfig(t)
	longEmail := strings.Repeat("a", 250) + "@example.it" // 261 bytes: within the pattern, over 256

	tests := []struct {
		name   string
		mutate func(r *CreateDebtRequest)
		field  string
	}{
		{"iupd empty", func(r *CreateDebtRequest) { r.IUPD = "" }, "iupd"},
		{"iupd 36 chars", func(r *CreateDebtRequest) { r.IUPD = strings.Repeat("A", 36) }, "iupd"},
		{"iupd space", func(r *CreateDebtRequest) { r.IUPD = "TARI 2026" }, "iupd"},
		{"iupd slash", func(r *CreateDebtRequest) { r.IUPD = "TARI/2026" }, "iupd"},
		{"iupd accent", func(r *CreateDebtRequest) { r.IUPD = "TARÌ-2026" }, "iupd"},
		{"iupd padded", func(r *CreateDebtRequest) { r.IUPD = " TARI-2026" }, "iupd"},
		{"serviceCode empty", func(r *CreateDebtRequest) { r.ServiceCode = "" }, "serviceCode"},
		{"serviceCode unknown", func(r *CreateDebtRequest) { r.ServiceCode = "COSAP" }, "serviceCode"},
		{"serviceCode lower case", func(r *CreateDebtRequest) { r.ServiceCode = "tari" }, "serviceCode"},
		{"debtor.type empty", func(r *CreateDebtRequest) { r.Debtor.Type = "" }, "debtor.type"},
		{"debtor.type lower case", func(r *CreateDebtRequest) { r.Debtor.Type = "f" }, "debtor.type"},
		{"debtor.type other", func(r *CreateDebtRequest) { r.Debtor.Type = "X" }, "debtor.type"},
		{"debtor.fiscalCode empty", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "" }, "debtor.fiscalCode"},
		{"debtor.fiscalCode check char", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "RSSMRA85T10A562X" }, "debtor.fiscalCode"},
		{"debtor.fiscalCode short", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "RSSMRA85T10A56" }, "debtor.fiscalCode"},
		{"debtor.fiscalCode bad month", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "RSSMRA85Z10A562S" }, "debtor.fiscalCode"},
		{"debtor.fiscalCode company check digit", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "00000000001" }, "debtor.fiscalCode"},
		{"debtor.fullName empty", func(r *CreateDebtRequest) { r.Debtor.FullName = "" }, "debtor.fullName"},
		{"debtor.fullName blank", func(r *CreateDebtRequest) { r.Debtor.FullName = " \t " }, "debtor.fullName"},
		{"debtor.fullName 71 runes with accents", func(r *CreateDebtRequest) { r.Debtor.FullName = strings.Repeat("è", 71) }, "debtor.fullName"},
		{"debtor.email empty", func(r *CreateDebtRequest) { r.Debtor.Email = "" }, "debtor.email"},
		{"debtor.email no at", func(r *CreateDebtRequest) { r.Debtor.Email = "mario.rossi.example.it" }, "debtor.email"},
		{"debtor.email display name", func(r *CreateDebtRequest) { r.Debtor.Email = "Mario Rossi <mario.rossi@example.it>" }, "debtor.email"},
		{"debtor.email quoted local part", func(r *CreateDebtRequest) { r.Debtor.Email = `"mario"@example.it` }, "debtor.email"},
		{"debtor.email accent", func(r *CreateDebtRequest) { r.Debtor.Email = "niccolò@example.it" }, "debtor.email"},
		{"debtor.email two addresses", func(r *CreateDebtRequest) { r.Debtor.Email = "a@example.it,b@example.it" }, "debtor.email"},
		{"debtor.email too long", func(r *CreateDebtRequest) { r.Debtor.Email = longEmail }, "debtor.email"},
		{"amountCents zero", func(r *CreateDebtRequest) { r.AmountCents = 0 }, "amountCents"},
		{"amountCents negative", func(r *CreateDebtRequest) { r.AmountCents = -100 }, "amountCents"},
		{"amountCents over max", func(r *CreateDebtRequest) { r.AmountCents = MaxAmount + 1 }, "amountCents"},
		{"dueDate empty", func(r *CreateDebtRequest) { r.DueDate = "" }, "dueDate"},
		{"dueDate Italian format", func(r *CreateDebtRequest) { r.DueDate = "31/12/2026" }, "dueDate"},
		{"dueDate impossible", func(r *CreateDebtRequest) { r.DueDate = "2026-02-30" }, "dueDate"},
		{"dueDate with time", func(r *CreateDebtRequest) { r.DueDate = "2026-12-31T00:00:00Z" }, "dueDate"},
		{"dueDate yesterday", func(r *CreateDebtRequest) { r.DueDate = "2026-11-19" }, "dueDate"},
		{"description empty", func(r *CreateDebtRequest) { r.Description = "" }, "description"},
		{"description blank", func(r *CreateDebtRequest) { r.Description = "   " }, "description"},
		{"description 141 chars", func(r *CreateDebtRequest) { r.Description = strings.Repeat("x", 141) }, "description"},
		{"description 141 runes with accents", func(r *CreateDebtRequest) { r.Description = strings.Repeat("à", 141) }, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest("TARI-2026-000123")
			tt.mutate(&r)
			submittedCF, submittedEmail := r.Debtor.FiscalCode, r.Debtor.Email
			_, errs := r.validate(validateToday, cfg.Creditor, cfg.Services)
			require.Equal(t, []string{tt.field}, fieldsOf(errs))
			for _, e := range errs {
				require.NotEmpty(t, e.Message)
				for _, secret := range []string{submittedCF, strings.TrimSpace(submittedCF), submittedEmail, strings.TrimSpace(submittedEmail)} {
					if len(secret) >= 5 { // shorter values could be digits of the message by chance
						require.NotContains(t, e.Message, secret, "the message repeats personal data")
					}
				}
			}
		})
	}
}

func TestValidateAcceptsAndNormalises(t *testing.T) {
	t.Parallel()
	cfg := validateConfig(t)
	name70 := strings.Repeat("à", 70)
	desc140 := strings.Repeat("é", 140)

	tests := []struct {
		name   string
		mutate func(r *CreateDebtRequest)
		check  func(t *testing.T, n debts.New)
	}{
		{"lower-case padded fiscal code and padded texts", func(r *CreateDebtRequest) {
			r.Debtor.FiscalCode = "  rssmra85t10a562s \t"
			r.Debtor.FullName = "  Mario Rossi  "
			r.Debtor.Email = " mario.rossi@example.it\n"
			r.Description = "  TARI 2026 rata unica  "
		}, func(t *testing.T, n debts.New) {
			require.Equal(t, "RSSMRA85T10A562S", n.Debtor.FiscalCode)
			require.Equal(t, "Mario Rossi", n.Debtor.FullName)
			require.Equal(t, "mario.rossi@example.it", n.Debtor.Email)
			require.Equal(t, "TARI 2026 rata unica", n.Description)
			require.Equal(t, date.Date{Year: 2026, Month: time.December, Day: 31}, n.DueDate)
		}},
		{"legal person", func(r *CreateDebtRequest) {
			r.Debtor.Type, r.Debtor.FiscalCode = "G", "00000000000"
		}, nil},
		{"omocodia fiscal code", func(r *CreateDebtRequest) { r.Debtor.FiscalCode = "RSSMRA85T10A56NH" }, nil},
		{"dueDate today", func(r *CreateDebtRequest) { r.DueDate = "2026-11-20" }, func(t *testing.T, n debts.New) {
			require.Equal(t, validateToday, n.DueDate)
		}},
		{"amountCents 1", func(r *CreateDebtRequest) { r.AmountCents = 1 }, nil},
		{"amountCents MaxAmount", func(r *CreateDebtRequest) { r.AmountCents = MaxAmount }, nil},
		{"iupd 35 chars of every allowed kind", func(r *CreateDebtRequest) { r.IUPD = "Aa0._-" + strings.Repeat("z", 29) }, nil},
		{"fullName 70 runes with accents, padded", func(r *CreateDebtRequest) { r.Debtor.FullName = "  " + name70 + "  " },
			func(t *testing.T, n debts.New) { require.Equal(t, name70, n.Debtor.FullName) }},
		{"description 140 runes with accents", func(r *CreateDebtRequest) { r.Description = desc140 }, nil},
		{"email with plus and subdomain", func(r *CreateDebtRequest) { r.Debtor.Email = "mario.rossi+tari@posta.comune.example.it" }, nil},
		{"every other service", func(r *CreateDebtRequest) { r.ServiceCode = "MENSA" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest("TARI-2026-000123")
			tt.mutate(&r)
			n, errs := r.validate(validateToday, cfg.Creditor, cfg.Services)
			require.Empty(t, errs)
			if tt.check != nil {
				tt.check(t, n)
			}
		})
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	t.Parallel()
	var r CreateDebtRequest
	_, errs := r.validate(validateToday, validateConfig(t).Creditor, validateConfig(t).Services)
	require.Equal(t, []string{
		"iupd", "serviceCode", "debtor.type", "debtor.fiscalCode", "debtor.fullName",
		"debtor.email", "amountCents", "dueDate", "description",
	}, fieldsOf(errs))
}
