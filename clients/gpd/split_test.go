package gpd_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"incasso/clients/gpd"
)

func TestSplitTransfers(t *testing.T) {
	t.Parallel()
	comune := gpd.Share{Category: "9/0101108TS/", IBAN: "IT60X0542811101000000123456", RemittanceInformation: "TARI 2026"}
	provincia := gpd.Share{
		Category: "9/0101108TS/", IBAN: "IT02A0301503200000003517230", RemittanceInformation: "TEFA 2026",
		OrganizationFiscalCode: "80012345678", CompanyName: "Provincia di Esempio",
	}
	with := func(s gpd.Share, bp int64) gpd.Share { s.BasisPoints = bp; return s }

	tests := []struct {
		name    string
		total   int64
		shares  []gpd.Share
		amounts []int64 // nil: ErrInvalidShares
	}{
		{"one share takes all", 12345, []gpd.Share{with(comune, 10_000)}, []int64{12345}},
		{"exact split", 10000, []gpd.Share{with(comune, 9500), with(provincia, 500)}, []int64{9500, 500}},
		{"remainder to the first", 12345, []gpd.Share{with(comune, 9500), with(provincia, 500)}, []int64{11728, 617}},
		{"thirds", 100, []gpd.Share{with(comune, 3334), with(comune, 3333), with(comune, 3333)}, []int64{34, 33, 33}},
		{"five shares of one cent", 5, []gpd.Share{with(comune, 2000), with(comune, 2000), with(comune, 2000), with(comune, 2000), with(comune, 2000)}, []int64{1, 1, 1, 1, 1}},
		{"largest GPD amount", 99_999_999_999, []gpd.Share{with(comune, 1), with(provincia, 9999)}, []int64{10_000_000, 99_989_999_999}},
		{"no share", 100, nil, nil},
		{"six shares", 600, []gpd.Share{with(comune, 5000), with(comune, 1000), with(comune, 1000), with(comune, 1000), with(comune, 1000), with(comune, 1000)}, nil},
		{"sum below 10000", 100, []gpd.Share{with(comune, 9000), with(provincia, 500)}, nil},
		{"sum above 10000", 100, []gpd.Share{with(comune, 9600), with(provincia, 500)}, nil},
		{"zero basis points", 100, []gpd.Share{with(comune, 10_000), with(provincia, 0)}, nil},
		{"negative basis points", 100, []gpd.Share{with(comune, 10_100), with(provincia, -100)}, nil},
		{"a share rounds to no cent", 19, []gpd.Share{with(comune, 9500), with(provincia, 500)}, nil},
		{"fewer cents than shares", 2, []gpd.Share{with(comune, 3334), with(comune, 3333), with(comune, 3333)}, nil},
		{"zero total", 0, []gpd.Share{with(comune, 10_000)}, nil},
		{"negative total", -100, []gpd.Share{with(comune, 10_000)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := gpd.SplitTransfers(tt.total, tt.shares)
			if tt.amounts == nil {
				require.ErrorIs(t, err, gpd.ErrInvalidShares)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tt.shares))
			var sum int64
			for i, tr := range got {
				s := tt.shares[i]
				require.Equal(t, gpd.Transfer{
					IDTransfer: string(rune('1' + i)), Amount: tt.amounts[i], RemittanceInformation: s.RemittanceInformation,
					Category: s.Category, IBAN: s.IBAN, OrganizationFiscalCode: s.OrganizationFiscalCode, CompanyName: s.CompanyName,
				}, tr)
				sum += tr.Amount
			}
			require.Equal(t, tt.total, sum, "the transfers sum to the option's amount")
		})
	}
}
