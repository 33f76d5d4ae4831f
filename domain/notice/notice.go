// Package notice renders the pagoPA payment notice (avviso di pagamento) as a PDF.
//
// The layout follows the spirit of the pagoPA "Avviso di pagamento" v3 standard: the upper
// part tells the debtor who asks for what, how much, by when and where to pay; the lower part
// is the payment slip with the QR code that banks, PSPs, tabaccherie and Poste scan. A notice
// payable in instalments adds pages with three instalment slips each ("Rate multiple", layout in
// multiples of 3), each with its own notice code and QR code. A creditor with a postal account
// also gets the Poste Italiane Data Matrix ("Bollettino Postale PA") on every slip: the standard
// puts it in a separate portion after each slip, here it shares the slip's box to keep three
// slips on a page.
package notice

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"github.com/skip2/go-qrcode"

	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
)

// Notice is what a payment notice says.
type Notice struct {
	CreditorName       string // the comune, e.g. "Comune di Gallarate"
	CreditorFiscalCode string // 11 digits
	DebtorName         string
	DebtorFiscalCode   string
	// DebtorAddress, when the notice is posted, is the postal address under the debtor's name:
	// at most 2 lines (street; CAP, city and province).
	DebtorAddress []string
	Subject       string // what the debt is for (<=140 chars)
	Amount        money.Cents
	DueDate       date.Date
	NoticeNumber  string // NAV, 18 digits

	// Instalments, if any, are a plan that is an alternative to paying Amount at once by
	// DueDate: 2 to 36 instalments, due on ascending dates, summing to Amount, each with its
	// own notice number.
	Instalments []Instalment
	// PostalAccount is the creditor's conto corrente postale (up to 12 digits), for the Poste
	// Italiane Data Matrix; empty if the creditor collects through no postal account.
	PostalAccount string
}

// Instalment is one instalment (rata) of a plan, a payment option with its own notice number.
type Instalment struct {
	NoticeNumber string // NAV, 18 digits
	Amount       money.Cents
	DueDate      date.Date
}

// options are the payment options of n: the single payment first, then the instalments.
func (n Notice) options() []Instalment {
	return append([]Instalment{{n.NoticeNumber, n.Amount, n.DueDate}}, n.Instalments...)
}

// ErrInvalid is wrapped by the errors Render returns for a notice it refuses to print.
var ErrInvalid = errors.New("invalid notice")

// maxSubject is the longest subject pagoPA accepts (causale, 140 characters).
const maxSubject = 140

// maxInstalments is the longest plan a notice prints.
const maxInstalments = 36

// QRPayload is the pagoPA QR payload: "PAGOPA|002|<NAV>|<EC fiscal code>|<cents>", amount in cents without zero padding but at least 2 digits (5 cents -> "05").
func QRPayload(nav, creditorFiscalCode string, amount money.Cents) string {
	return fmt.Sprintf("PAGOPA|002|%s|%s|%02d", nav, creditorFiscalCode, int64(amount))
}

// GroupNoticeNumber prints the 18-digit NAV in groups of four: "3022 0115 1398 5741 81".
func GroupNoticeNumber(nav string) string {
	nav = strings.ReplaceAll(nav, " ", "")
	var b strings.Builder
	for i, r := range nav {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Render writes the PDF of n to w. It validates n first (non-empty fields, NAV 18 digits, EC
// fiscal code 11 digits, amount >= 1, the plan and the postal account as documented on Notice)
// and returns an error naming the field.
func Render(w io.Writer, n Notice) error {
	if err := validate(n); err != nil {
		return err
	}
	p := newPage()
	if err := p.codes(n); err != nil {
		return err
	}
	p.header(n)
	p.parties(n)
	p.howMuch(n)
	p.where()
	p.slip(n)
	for first := 0; first < len(n.Instalments); first += slipsPerPage {
		p.pdf.AddPage()
		p.instalments(n, first)
	}
	if err := p.pdf.Output(w); err != nil {
		return fmt.Errorf("notice: write PDF: %w", err)
	}
	return nil
}

func validate(n Notice) error {
	required := []struct{ field, value string }{
		{"CreditorName", n.CreditorName},
		{"CreditorFiscalCode", n.CreditorFiscalCode},
		{"DebtorName", n.DebtorName},
		{"DebtorFiscalCode", n.DebtorFiscalCode},
		{"Subject", n.Subject},
		{"NoticeNumber", n.NoticeNumber},
	}
	for _, r := range required {
		if strings.TrimSpace(r.value) == "" {
			return fmt.Errorf("%w: %s is empty", ErrInvalid, r.field)
		}
	}
	switch {
	case !chars.Digits(n.NoticeNumber, 18):
		return fmt.Errorf("%w: NoticeNumber %q is not 18 digits", ErrInvalid, n.NoticeNumber)
	case !chars.Digits(n.CreditorFiscalCode, 11):
		return fmt.Errorf("%w: CreditorFiscalCode %q is not 11 digits", ErrInvalid, n.CreditorFiscalCode)
	case utf8.RuneCountInString(n.Subject) > maxSubject:
		return fmt.Errorf("%w: Subject is longer than %d characters", ErrInvalid, maxSubject)
	case n.Amount < 1:
		return fmt.Errorf("%w: Amount %s is not positive", ErrInvalid, n.Amount.Decimal())
	case n.DueDate.IsZero():
		return fmt.Errorf("%w: DueDate is empty", ErrInvalid)
	}
	if len(n.DebtorAddress) > 2 {
		return fmt.Errorf("%w: DebtorAddress has more than 2 lines", ErrInvalid)
	}
	for _, line := range n.DebtorAddress {
		if !chars.Printable(line) {
			return fmt.Errorf("%w: DebtorAddress must be lines of printable UTF-8", ErrInvalid)
		}
	}
	if err := validatePlan(n); err != nil {
		return err
	}
	if n.PostalAccount != "" {
		return validatePoste(n)
	}
	return nil
}

// validatePlan checks n.Instalments: by law a plan here charges no interest, so the
// instalments add up to Amount; each needs a notice number of its own.
func validatePlan(n Notice) error {
	if len(n.Instalments) == 0 {
		return nil
	}
	if len(n.Instalments) < 2 || len(n.Instalments) > maxInstalments {
		return fmt.Errorf("%w: Instalments has %d instalments, not 2 to %d", ErrInvalid, len(n.Instalments), maxInstalments)
	}
	used := map[string]bool{n.NoticeNumber: true}
	var sum money.Cents
	for i, in := range n.Instalments {
		var problem string
		switch {
		case !chars.Digits(in.NoticeNumber, 18):
			problem = fmt.Sprintf("NoticeNumber %q is not 18 digits", in.NoticeNumber)
		case used[in.NoticeNumber]:
			problem = fmt.Sprintf("NoticeNumber %s is already used by another payment option", in.NoticeNumber)
		case in.Amount < 1:
			problem = fmt.Sprintf("Amount %s is not positive", in.Amount.Decimal())
		case in.DueDate.IsZero():
			problem = "DueDate is empty"
		case i > 0 && !n.Instalments[i-1].DueDate.Before(in.DueDate):
			problem = fmt.Sprintf("DueDate %s is not after the previous instalment's", in.DueDate)
		}
		if problem != "" {
			return fmt.Errorf("%w: instalment %d: %s", ErrInvalid, i+1, problem)
		}
		used[in.NoticeNumber] = true
		sum += in.Amount
	}
	if sum != n.Amount {
		return fmt.Errorf("%w: Instalments add up to %s, not to Amount %s", ErrInvalid, sum.Decimal(), n.Amount.Decimal())
	}
	return nil
}

// qrModules encodes payload as a QR code (ISO 18004, error correction M): its modules, dark
// ones true, with the 4-module quiet zone.
func qrModules(payload string) ([][]bool, error) {
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	return q.Bitmap(), nil
}

// Page geometry in millimetres and the pagoPA palette.
const (
	left    = 12.0
	width   = 186.0
	colGap  = 6.0
	colW    = (width - colGap) / 2
	right   = left + colW + colGap
	qrWidth = 44.0 // with the 4-module quiet zone, the symbol itself stays well above 30 mm

	slipsPerPage = 3
	slipTop      = 57.0 // of the first instalment slip on its page
	slipH        = 70.0
	slipGap      = 7.0
	slipQR       = 32.0 // QR code of an instalment, quiet zone included: the symbol is about the 25 mm pagoPA asks for
	posteW       = 40.0 // column of the Poste part of an instalment slip
	dataMatrixW  = 30.0 // Data Matrix, quiet zone included
)

type rgb struct{ r, g, b int }

var (
	blue  = rgb{0, 102, 204}
	ink   = rgb{23, 50, 77}
	grey  = rgb{92, 111, 130}
	light = rgb{235, 241, 247}
)

// fixedDate is the creation date written in every notice, so that the same notice always
// gives the same bytes.
var fixedDate = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// page wraps fpdf with the translator to Windows-1252 that the core fonts need, and the
// symbols (QR codes, Data Matrix) the slips carry, by name.
type page struct {
	pdf     *fpdf.Fpdf
	tr      func(string) string
	symbols map[string][][]bool
}

func newPage() *page {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(fixedDate)
	pdf.SetModificationDate(fixedDate)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Avviso di pagamento", true)
	pdf.SetCreator("incasso", true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(left, 12, left)
	pdf.AddPage()
	return &page{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor(""), symbols: map[string][][]bool{}}
}

// codes encodes the symbols of every payment option of n: its pagoPA QR code, named "qr"
// and its notice number, and with a postal account its Poste Data Matrix, named "dm" and its
// notice number.
func (p *page) codes(n Notice) error {
	for _, o := range n.options() {
		qr, err := qrModules(QRPayload(o.NoticeNumber, n.CreditorFiscalCode, o.Amount))
		if err != nil {
			return fmt.Errorf("notice: QR code: %w", err)
		}
		p.symbols["qr"+o.NoticeNumber] = qr
		if n.PostalAccount == "" {
			continue
		}
		dm, err := dataMatrixModules(posteDataMatrixPayload(n, o))
		if err != nil {
			return fmt.Errorf("notice: Data Matrix: %w", err)
		}
		p.symbols["dm"+o.NoticeNumber] = dm
	}
	return nil
}

// symbol draws the symbol name in a square of the given side with its top left corner at
// (x, y), as vector black modules: sharp at any size, as pagoPA asks, and unlike images
// (which fpdf writes in map order) always in the same order.
func (p *page) symbol(name string, x, y, side float64) {
	modules := p.symbols[name]
	m := side / float64(len(modules))
	p.pdf.SetFillColor(0, 0, 0)
	for r, row := range modules {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			run := c
			for c < len(row) && row[c] {
				c++
			}
			p.pdf.Rect(x+float64(run)*m, y+float64(r)*m, float64(c-run)*m, m, "F")
		}
	}
}

func (p *page) font(style string, size float64, c rgb) {
	p.pdf.SetFont("Helvetica", style, size)
	p.pdf.SetTextColor(c.r, c.g, c.b)
}

// text prints s on one line at (x, y) in a cell w wide, aligned "L", "C" or "R".
func (p *page) text(x, y, w, h float64, align, s string) {
	p.pdf.SetXY(x, y)
	p.pdf.CellFormat(w, h, p.tr(s), "", 0, align, false, 0, "")
}

// wrap prints s on at most maxLines lines of height h within width w, shortening the last
// line with "..." if s does not fit, and returns the height used.
func (p *page) wrap(x, y, w, h float64, maxLines int, s string) float64 {
	lines := p.pdf.SplitLines([]byte(p.tr(s)), w)
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		last := string(lines[maxLines-1])
		for last != "" && p.pdf.GetStringWidth(last+"...") > w {
			last = last[:len(last)-1]
		}
		lines[maxLines-1] = []byte(strings.TrimRight(last, " ") + "...")
	}
	for i, l := range lines {
		p.pdf.SetXY(x, y+float64(i)*h)
		p.pdf.CellFormat(w, h, string(l), "", 0, "L", false, 0, "")
	}
	return float64(len(lines)) * h
}

// field prints a small grey label with its value below, and returns the height used.
func (p *page) field(x, y, w float64, label, value string, size float64, maxLines int) float64 {
	p.font("", 7.5, grey)
	p.text(x, y, w, 4, "L", label)
	p.font("B", size, ink)
	return 4 + p.wrap(x, y+4, w, size*0.45, maxLines, value)
}

func (p *page) box(x, y, w, h float64, fill bool) {
	p.pdf.SetDrawColor(grey.r, grey.g, grey.b)
	p.pdf.SetFillColor(light.r, light.g, light.b)
	p.pdf.SetLineWidth(0.3)
	style := "D"
	if fill {
		style = "FD"
	}
	p.pdf.RoundedRect(x, y, w, h, 2, "1234", style)
}

// cut draws the dashed line along which a slip is cut off.
func (p *page) cut(y float64) {
	p.pdf.SetDrawColor(grey.r, grey.g, grey.b)
	p.pdf.SetLineWidth(0.2)
	p.pdf.SetDashPattern([]float64{1.5, 1.5}, 0)
	p.pdf.Line(left, y, left+width, y)
	p.pdf.SetDashPattern(nil, 0)
}

func (p *page) header(n Notice) {
	p.font("B", 20, ink)
	p.text(left, 12, width, 9, "L", "AVVISO DI PAGAMENTO")
	p.font("B", 16, blue)
	p.text(left, 12, width, 9, "R", "pagoPA")
	p.font("", 11, ink)
	p.wrap(left, 23, width, 5.5, 3, n.Subject)
}

func (p *page) parties(n Notice) {
	const y, h = 42.0, 34.0
	p.party(left, y, h, "ENTE CREDITORE", n.CreditorName, n.CreditorFiscalCode, nil)
	p.party(right, y, h, "DESTINATARIO AVVISO", n.DebtorName, n.DebtorFiscalCode, n.DebtorAddress)
}

// party draws a box with the party's name on up to 2 lines, or on 1 above its address.
func (p *page) party(x, y, h float64, title, name, fiscalCode string, address []string) {
	p.box(x, y, colW, h, false)
	x, w := x+4, colW-8
	p.font("B", 9, blue)
	p.text(x, y+3, w, 5, "L", title)
	p.font("B", 12, ink)
	p.wrap(x, y+10, w, 5.5, 2-min(1, len(address)), name)
	p.font("", 9, ink)
	for i, line := range address {
		p.text(x, y+15.5+float64(i)*4.2, w, 4.2, "L", line)
	}
	p.font("", 9, grey)
	p.text(x, y+h-9, w, 5, "L", "Codice Fiscale")
	p.font("B", 10, ink)
	p.text(x+24, y+h-9, w-24, 5, "L", fiscalCode)
}

func (p *page) howMuch(n Notice) {
	y := 84.0
	p.font("B", 11, blue)
	p.text(left, y, colW, 6, "L", "QUANTO E QUANDO PAGARE?")
	p.font("B", 20, ink)
	p.text(left, y+9, colW, 9, "L", n.Amount.Italian()+" Euro")
	p.font("", 11, ink)
	p.text(left, y+19, colW, 6, "L", "entro il "+n.DueDate.Italian())
	if len(n.Instalments) > 0 {
		y += 7
		p.text(left, y+19, colW, 6, "L", fmt.Sprintf("oppure in %d rate: vedi le pagine seguenti", len(n.Instalments)))
	}
	p.font("", 8.5, grey)
	p.wrap(left, y+29, colW, 4.2, 7, "L'importo è aggiornato automaticamente dal sistema e potrebbe "+
		"subire variazioni per eventuali sgravi, note di credito, indennità di mora, sanzioni o "+
		"interessi. Un operatore, il sito o l'app che userai potrebbero quindi chiederti una cifra "+
		"diversa da quella qui indicata.")
}

func (p *page) where() {
	y := 84.0
	p.font("B", 11, blue)
	p.text(right, y, colW, 6, "L", "DOVE PAGARE?")
	y += 9
	paragraphs := []struct{ title, body string }{
		{"PAGA SUL SITO O CON LE APP", "della tua banca o degli altri prestatori di servizi di " +
			"pagamento (PSP) aderenti al circuito pagoPA. Potrai pagare con carte, conto corrente, CBILL."},
		{"PAGA SUL TERRITORIO", "in banca, agli sportelli ATM abilitati, in tabaccheria, in " +
			"ricevitoria, al supermercato e negli uffici di Poste Italiane, presso chi espone " +
			"il marchio pagoPA. Potrai pagare in contanti, con carte o conto corrente."},
	}
	for _, par := range paragraphs {
		p.font("B", 9, ink)
		p.text(right, y, colW, 4.5, "L", par.title)
		p.font("", 8.5, ink)
		y += 4.5 + p.wrap(right, y+4.5, colW, 4.2, 5, par.body) + 3
	}
}

// slip draws the lower part of the first page, the single payment that the channels read.
func (p *page) slip(n Notice) {
	const top = 150.0
	p.cut(top)
	p.font("", 9, ink)
	p.text(left, top+3, width, 5, "L", "Utilizza la porzione di avviso relativa alla rata e al "+
		"canale di pagamento che preferisci.")

	p.bar(top+11, "RATA UNICA", n.DueDate, n.Amount)
	p.channels(n, top+27)
}

// bar draws the filled band that opens a slip: which payment, by when, how much.
func (p *page) bar(y float64, label string, due date.Date, amount money.Cents) {
	p.box(left, y, width, 12, true)
	p.font("B", 11, ink)
	p.text(left+4, y+3.5, 40, 5, "L", label)
	p.font("", 11, ink)
	p.text(left+40, y+3.5, 70, 5, "L", "entro il "+due.Italian())
	p.font("B", 13, ink)
	p.text(left+4, y+3.5, width-8, 5, "R", amount.Italian()+" Euro")
}

// channels draws the box with the QR code and the data a cashier keys in by hand.
func (p *page) channels(n Notice, y float64) {
	const h = 100.0
	p.box(left, y, width, h, false)
	p.font("B", 10, blue)
	p.text(left+4, y+3, 100, 5, "L", "BANCHE E ALTRI CANALI")
	p.font("B", 10, ink)
	p.text(left+4, y+3, width-8, 5, "R", "Euro  "+n.Amount.Italian())

	p.symbol("qr"+n.NoticeNumber, left+4, y+12, qrWidth)
	if n.PostalAccount != "" {
		p.poste(n, n.NoticeNumber, left+4, y+58, qrWidth)
	}

	x := left + 4 + qrWidth + 6
	w := left + width - 4 - x
	half := (w - 4) / 2
	p.font("", 8.5, grey)
	yy := y + 12 + p.wrap(x, y+12, w, 4, 2, "Qui accanto trovi il codice QR per pagare attraverso il "+
		"circuito bancario e gli altri canali di pagamento abilitati a pagoPA.") + 3
	yy += p.field(x, yy, w, "Destinatario", n.DebtorName, 10, 2) + 3
	yy += p.field(x, yy, w, "Ente Creditore", n.CreditorName, 10, 2) + 3
	yy += p.field(x, yy, w, "Oggetto del pagamento", n.Subject, 9, 3) + 3
	p.field(x, yy, half, "Codice Avviso", GroupNoticeNumber(n.NoticeNumber), 11, 1)
	p.field(x+half+4, yy, half, "Cod. Fiscale Ente Creditore", n.CreditorFiscalCode, 11, 1)
	yy += 13
	p.field(x, yy, half, "Scadenza", n.DueDate.Italian(), 11, 1)
	p.field(x+half+4, yy, half, "Importo", n.Amount.Italian()+" Euro", 11, 1)
}

// poste draws, centred in a column w wide, the Poste Italiane part of the slip of the option
// with notice number nav: title, Data Matrix and postal account, 39 mm high.
func (p *page) poste(n Notice, nav string, x, y, w float64) {
	p.font("B", 7.5, blue)
	p.text(x, y, w, 4, "C", "BOLLETTINO POSTALE PA")
	p.symbol("dm"+nav, x+(w-dataMatrixW)/2, y+4, dataMatrixW)
	p.font("", 7.5, grey)
	p.text(x, y+5+dataMatrixW, w, 4, "C", "C/C n. "+n.PostalAccount)
}

// instalments draws a page of instalment slips, from instalment first on.
func (p *page) instalments(n Notice, first int) {
	p.header(n)
	p.font("B", 11, blue)
	p.text(left, 43, width, 6, "L", "PAGAMENTO RATEALE")
	p.font("", 9, ink)
	p.text(left, 49, width, 5, "L", fmt.Sprintf("Puoi pagare in %d rate, ciascuna entro la sua "+
		"scadenza, con la porzione di avviso relativa alla rata.", len(n.Instalments)))
	last := min(first+slipsPerPage, len(n.Instalments))
	for i := first; i < last; i++ {
		y := slipTop + float64(i-first)*(slipH+slipGap)
		if i > first {
			p.cut(y - slipGap/2)
		}
		p.instalment(n, i, y)
	}
}

// instalment draws the slip of instalment i with its top at y, slipH high.
func (p *page) instalment(n Notice, i int, y float64) {
	in := n.Instalments[i]
	p.bar(y, fmt.Sprintf("Rata %d di %d", i+1, len(n.Instalments)), in.DueDate, in.Amount)
	y += 14
	p.box(left, y, width, slipH-14, false)
	p.font("B", 9, blue)
	p.text(left+4, y+3, 60, 4, "L", "BANCHE E ALTRI CANALI")
	p.symbol("qr"+in.NoticeNumber, left+4, y+8, slipQR)

	x, end := left+4+slipQR+6, left+width-4
	if n.PostalAccount != "" {
		end -= posteW + 6
		p.poste(n, in.NoticeNumber, end+6, y+3, posteW)
	}
	w := end - x
	const codeW = 50.0 // the grouped notice code is 43 mm wide in 11 points bold
	yy := y + 8
	yy += p.field(x, yy, w, "Destinatario", n.DebtorName, 10, 1) + 2
	yy += p.field(x, yy, w, "Ente Creditore", n.CreditorName, 10, 1) + 2
	yy += p.field(x, yy, w, "Oggetto del pagamento", n.Subject, 9, 2) + 2
	p.field(x, yy, codeW, "Codice Avviso", GroupNoticeNumber(in.NoticeNumber), 11, 1)
	p.field(x+codeW, yy, w-codeW, "Cod. Fiscale Ente Creditore", n.CreditorFiscalCode, 11, 1)
}
