package notice

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// padded pads s with spaces to n characters.
func padded(s string, n int) string { return s + strings.Repeat(" ", n-len(s)) }

func TestPosteDataMatrixPayload(t *testing.T) {
	t.Parallel()
	const (
		head    = "codfase=NBPA;"
		typeFix = "38961P1"
		filler  = "            A"
	)
	cases := []struct {
		name string
		edit func(*Notice)
		nav  string
		want string
	}{{
		name: "single payment",
		nav:  sampleNAV,
		want: head + "18322201151398574181" + "12001011136627" + "100000123456" + typeFix + "01234567890" +
			"RGANCC80A01D869X" + padded("NICCOLO RAGU", 40) +
			padded("TARI 2026 - TASSA SUI RIFIUTI, UNITA IMMOBILIARE DI VIA VERDI 3", 110) + filler,
	}, {
		name: "instalment",
		nav:  "322201151398574383",
		want: head + "18322201151398574383" + "12001011136627" + "100000041152" + typeFix + "01234567890" +
			"RGANCC80A01D869X" + padded("NICCOLO RAGU", 40) +
			padded("TARI 2026 - TASSA SUI RIFIUTI, UNITA IMMOBILIARE DI VIA VERDI 3", 110) + filler,
	}, {
		name: "company debtor, 12-digit account, a few cents",
		edit: func(n *Notice) {
			n.PostalAccount, n.DebtorFiscalCode, n.DebtorName = "123456789012", "09876543210", "Bar Sport s.r.l."
			n.Amount, n.Instalments = 5, nil
		},
		nav: sampleNAV,
		want: head + "18322201151398574181" + "12123456789012" + "100000000005" + typeFix + "01234567890" +
			"09876543210     " + padded("BAR SPORT S.R.L.", 40) +
			padded("TARI 2026 - TASSA SUI RIFIUTI, UNITA IMMOBILIARE DI VIA VERDI 3", 110) + filler,
	}, {
		name: "accents in ASCII, other characters blanked",
		edit: func(n *Notice) {
			n.DebtorName = "Đurđa D’Angelo-Müßig Ærø"
			n.Subject = "Canone 1° semestre: 50 €/mese (Š, Č, Ž, ÿ) #3"
		},
		nav: sampleNAV,
		want: head + "18322201151398574181" + "12001011136627" + "100000123456" + typeFix + "01234567890" +
			"RGANCC80A01D869X" + padded("DURDA D'ANGELO-MUSSIG AERO", 40) +
			padded("CANONE 1  SEMESTRE: 50   MESE  S, C, Z, Y   3", 110) + filler,
	}, {
		name: "long name and subject truncated",
		edit: func(n *Notice) {
			n.DebtorName = "Associazione Sportiva Dilettantistica Società Ginnastica Gallaratese"
			n.Subject = strings.Repeat("abcdefghij", 14)
		},
		nav: sampleNAV,
		want: head + "18322201151398574181" + "12001011136627" + "100000123456" + typeFix + "01234567890" +
			"RGANCC80A01D869X" + "ASSOCIAZIONE SPORTIVA DILETTANTISTICA SO" +
			strings.Repeat("ABCDEFGHIJ", 11) + filler,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := planSample()
			if c.edit != nil {
				c.edit(&n)
			}
			got, err := PosteDataMatrixPayload(n, c.nav)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			require.Len(t, got, 256)
			// Where pagoPA's app reads the notice code, the amount and the creditor.
			require.Equal(t, c.nav, got[15:33])
			require.Equal(t, c.want[49:59], got[49:59])
			require.Equal(t, n.CreditorFiscalCode, got[66:77])
		})
	}
}

func TestPosteDataMatrixPayloadInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		field string
		edit  func(*Notice)
		nav   string
	}{
		{"PostalAccount is empty", func(n *Notice) { n.PostalAccount = "" }, sampleNAV},
		{"NoticeNumber \"322201151398574585\"", func(*Notice) {}, "322201151398574585"},
		{"DebtorName", func(n *Notice) { n.DebtorName = "" }, sampleNAV},
		{"instalment 2: Amount", func(n *Notice) { n.Instalments[1].Amount = -1 }, sampleNAV},
	}
	for _, c := range cases {
		n := planSample()
		c.edit(&n)
		_, err := PosteDataMatrixPayload(n, c.nav)
		require.ErrorIs(t, err, ErrInvalid, c.field)
		require.ErrorContains(t, err, c.field)
	}
}
