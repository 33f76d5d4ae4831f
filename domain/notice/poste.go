package notice

import (
	"fmt"
	"image/color"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/boombuler/barcode/datamatrix"

	"incasso/domain/chars"
	"incasso/domain/money"
)

// The Poste Italiane Data Matrix of the "Bollettino Postale PA", 256 characters. The pagoPA
// notice standard defers to the Poste "Manuale della stampa in proprio" (chapter "Bollettino PA
// integrato nell'avviso standard AgID"); this is the layout pagoPA's own notice generator
// (pagopa-print-payment-notice-generator) writes and its IO app reads:
//
//	codfase=NBPA;                 fixed, 13
//	18 <NAV>                      codeline: each field after its length, 2 + 18
//	12 <postal account>           12 digits, zero-padded on the left, 2 + 12
//	10 <amount>                   cents, 10 digits, zero-padded on the left, 2 + 10
//	3 896                         document type 896 (bollettino PA), 1 + 3
//	1P1                           fixed, 3
//	<EC fiscal code>              11 digits
//	<debtor fiscal code>          16, left-aligned, space-padded
//	<debtor name>                 40, left-aligned, space-padded or truncated
//	<subject>                     110, left-aligned, space-padded or truncated
//	<filler>                      12 spaces
//	A                             fixed, 1
//
// The free-text fields are upper case ASCII, with a conservative set of punctuation: see
// posteText.
const (
	posteAccountLen  = 12
	posteDebtorCFLen = 16
	maxPosteAmount   = money.Cents(9_999_999_999) // the 10 digits of the amount field
)

// PosteDataMatrixPayload is the 256-character payload of the Poste Italiane Data Matrix on the
// slip of the payment option of n whose notice code is nav: n.NoticeNumber for the single
// payment, or the NoticeNumber of one of n.Instalments. n must be valid and have a PostalAccount.
func PosteDataMatrixPayload(n Notice, nav string) (string, error) {
	if err := validate(n); err != nil {
		return "", err
	}
	if n.PostalAccount == "" {
		return "", fmt.Errorf("%w: PostalAccount is empty", ErrInvalid)
	}
	for _, o := range n.options() {
		if o.NoticeNumber == nav {
			return posteDataMatrixPayload(n, o), nil
		}
	}
	return "", fmt.Errorf("%w: no payment option of the notice has NoticeNumber %q", ErrInvalid, nav)
}

// posteDataMatrixPayload builds the payload of option o of n, both already validated.
func posteDataMatrixPayload(n Notice, o Instalment) string {
	account := strings.Repeat("0", posteAccountLen-len(n.PostalAccount)) + n.PostalAccount
	return "codfase=NBPA;" +
		"18" + o.NoticeNumber +
		"12" + account +
		fmt.Sprintf("10%010d", int64(o.Amount)) +
		"3896" + // document type 896, after its length
		"1P1" +
		n.CreditorFiscalCode +
		posteText(n.DebtorFiscalCode, posteDebtorCFLen) +
		posteText(n.DebtorName, 40) +
		posteText(n.Subject, 110) +
		strings.Repeat(" ", 12) +
		"A"
}

// validatePoste checks what the Data Matrix needs of a notice with a PostalAccount. The
// instalments sum to Amount, so checking Amount bounds them too.
func validatePoste(n Notice) error {
	switch {
	case len(n.PostalAccount) > posteAccountLen || !chars.Digits(n.PostalAccount, len(n.PostalAccount)):
		return fmt.Errorf("%w: PostalAccount %q is not 1 to %d digits", ErrInvalid, n.PostalAccount, posteAccountLen)
	case utf8.RuneCountInString(n.DebtorFiscalCode) > posteDebtorCFLen:
		return fmt.Errorf("%w: DebtorFiscalCode %q is longer than the %d characters of the Poste Data Matrix",
			ErrInvalid, n.DebtorFiscalCode, posteDebtorCFLen)
	case n.Amount > maxPosteAmount:
		return fmt.Errorf("%w: Amount %s is more than the Poste Data Matrix holds", ErrInvalid, n.Amount.Decimal())
	}
	return nil
}

// posteFolds are the ASCII spellings of the non-ASCII capitals (and apostrophes) met in
// Italian names and subjects, and in the German and Slovene ones of the bilingual regions.
var posteFolds = []struct{ ascii, others string }{
	{"A", "ÀÁÂÃÄÅ"}, {"AE", "Æ"}, {"C", "ÇĆČ"}, {"D", "ĐÐ"}, {"E", "ÈÉÊË"}, {"I", "ÌÍÎÏ"},
	{"N", "Ñ"}, {"O", "ÒÓÔÕÖØ"}, {"OE", "Œ"}, {"S", "Š"}, {"SS", "ßẞ"}, {"U", "ÙÚÛÜ"},
	{"Y", "ÝŸ"}, {"Z", "Ž"}, {"'", "‘’`´"},
}

// posteAllowed are the characters the free-text fields keep; any other becomes a space.
const posteAllowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 &'-.:_,"

// posteText turns s into a Data Matrix field of exactly width characters: upper case, accented
// letters spelled in ASCII (à -> A, ß -> SS), other characters blanked, padded with spaces on
// the right or truncated.
func posteText(s string, width int) string {
	var b strings.Builder
	for _, r := range s {
		r = unicode.ToUpper(r)
		if strings.ContainsRune(posteAllowed, r) {
			b.WriteRune(r)
		} else if f := fold(r); f != "" {
			b.WriteString(f)
		} else {
			b.WriteByte(' ')
		}
	}
	t := b.String() + strings.Repeat(" ", width)
	return t[:width]
}

func fold(r rune) string {
	for _, f := range posteFolds {
		if strings.ContainsRune(f.others, r) {
			return f.ascii
		}
	}
	return ""
}

// dataMatrixQuiet is the quiet zone around the Data Matrix, in modules (ISO/IEC 16022 asks for
// at least 1).
const dataMatrixQuiet = 2

// dataMatrixModules encodes payload as an ECC 200 Data Matrix: its modules, dark ones true,
// with the quiet zone.
func dataMatrixModules(payload string) ([][]bool, error) {
	dm, err := datamatrix.Encode(payload)
	if err != nil {
		return nil, err
	}
	b := dm.Bounds()
	modules := make([][]bool, b.Dy()+2*dataMatrixQuiet)
	for r := range modules {
		modules[r] = make([]bool, b.Dx()+2*dataMatrixQuiet)
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			gray := color.GrayModel.Convert(dm.At(x, y)).(color.Gray)
			modules[y-b.Min.Y+dataMatrixQuiet][x-b.Min.X+dataMatrixQuiet] = gray.Y < 128
		}
	}
	return modules, nil
}
