package positions

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/app/config"
	"incasso/db/dbgen"
	"incasso/domain/date"
)

var creditor = config.Creditor{Name: "Comune di Esempio", FiscalCode: "00000000000", IBAN: "IT60X0542811101000000123456"}

var services = config.Services{
	{Code: "TARI", Transfers: []config.Beneficiary{
		{Taxonomy: "9/0101108TS/", BasisPoints: 9500},
		{Taxonomy: "9/0201102IM/", IBAN: "IT02A0301503200000003517230", FiscalCode: "80000010011", Name: "Provincia", BasisPoints: 500},
	}},
	{Code: "SALA", ExpiresAfterDue: true, Transfers: []config.Beneficiary{{Taxonomy: "9/0301109AP/", BasisPoints: 10_000}}},
}

func debt(service string, cents int64) dbgen.DebtPosition {
	return dbgen.DebtPosition{
		ID: 7, Iupd: "TARI-1", ServiceCode: service, DebtorType: "F", DebtorFiscalCode: "RSSMRA85T10A562S",
		DebtorName: "Mario Rossi", DebtorEmail: "mario@example.it", AmountCents: cents,
		DueDate: time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC), Description: "TARI 2026",
		Nav: "301000000000000117",
	}
}

func TestPositionSplitsAmongBeneficiaries(t *testing.T) {
	t.Parallel()
	p, err := Position(creditor, services, debt("TARI", 12345))
	require.NoError(t, err)
	require.Equal(t, "Comune di Esempio", p.CompanyName)
	require.False(t, p.SwitchToExpired)
	require.Len(t, p.PaymentOptions, 1)
	opt := p.PaymentOptions[0]
	require.Equal(t, "01000000000000117", opt.IUV, "the IUV is the NAV without its aux digit")
	require.Equal(t, int64(12345), opt.Amount)
	// Due at the last second of 31 December in Rome.
	require.True(t, time.Date(2026, time.December, 31, 23, 59, 59, 0, date.Rome).Equal(opt.DueDate), opt.DueDate)
	require.Len(t, opt.Transfers, 2)
	require.Equal(t, int64(11728), opt.Transfers[0].Amount, "95% rounded down plus the cents left")
	require.Equal(t, int64(617), opt.Transfers[1].Amount)
	require.Equal(t, creditor.IBAN, opt.Transfers[0].IBAN, "the comune's IBAN stands in")
	require.Equal(t, "80000010011", opt.Transfers[1].OrganizationFiscalCode)
	require.Equal(t, "9/0201102IM/", opt.Transfers[1].Category)
	require.Equal(t, "TARI 2026", opt.Transfers[1].RemittanceInformation)
}

func TestPositionErrors(t *testing.T) {
	t.Parallel()
	_, err := Position(creditor, services, debt("NOPE", 100))
	require.ErrorContains(t, err, "service NOPE is not configured")
	_, err = Position(creditor, services, debt("TARI", 19))
	require.ErrorContains(t, err, "debt 7", "19 cents cannot give the 5% share a cent")
	p, err := Position(creditor, services, debt("SALA", 100))
	require.NoError(t, err)
	require.True(t, p.SwitchToExpired)
}
