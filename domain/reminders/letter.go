package reminders

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
)

// Page geometry of the letter in millimetres, on A4.
const (
	pageW, pageH = 210.0, 297.0
	margin       = 20.0
	textW        = pageW - 2*margin
	addressX     = 110.0 // the address block sits in the window of a DL envelope
	addressY     = 50.0
	lineH        = 5.0
)

type rgb struct{ r, g, b int }

var (
	ink  = rgb{23, 50, 77}
	grey = rgb{92, 111, 130}
	blue = rgb{0, 102, 204}
)

// Letter writes the avviso di accertamento esecutivo for d as a PDF on A4: the creditor's
// header, the debtor's address block, the protocol number and date, the subject, the demand
// with the amount due and the original due date, the legal notices (enforceable title,
// PayOrAppealDays to pay or to appeal, costs, instalments), how to pay with pagoPA, and the
// date and signature block. It is printed for registered post or attached to the PEC that
// Render(StepAccertamento, ChannelPEC, d) gives.
//
// The same d always gives the same bytes: the PDF's dates are d.StepDate. Data it cannot
// render is an error wrapping ErrInvalid that names the field.
func Letter(w io.Writer, d Data) error {
	if err := d.validate(true); err != nil {
		return err
	}
	return writeLetter(w, d, "Avviso di accertamento esecutivo", true, (*letter).body)
}

// SollecitoLetter writes the sollecito for d as a PDF letter for the ordinary post, to the
// debtor the ladder reaches by no e-mail, PEC or App IO: the letter's header, address block
// and signature, the notice's figures, how to pay it with pagoPA (the notice code stands in
// for the notice the e-mail attaches), and what follows if it is not paid. d needs what the
// sollecito's e-mail needs, and a Reference and StepDate for its protocol number and date.
// The same d always gives the same bytes, as with Letter.
func SollecitoLetter(w io.Writer, d Data) error {
	if err := d.validate(false); err != nil {
		return err
	}
	switch {
	case d.Reference == "":
		return fmt.Errorf("reminders: %w: Reference is required", ErrInvalid)
	case d.StepDate.IsZero():
		return fmt.Errorf("reminders: %w: StepDate is required", ErrInvalid)
	}
	return writeLetter(w, d, "Sollecito di pagamento", false, (*letter).sollecitoBody)
}

// writeLetter writes the letter called title with the body body prints; an act names the
// debtor by fiscal code too in the address block (an ordinary letter does not show it in the
// envelope's window).
func writeLetter(w io.Writer, d Data, title string, act bool, body func(*letter)) error {
	l := newLetter(d, title)
	l.act = act
	l.header()
	l.addresses()
	body(l)
	l.signature()
	if err := l.pdf.Output(w); err != nil {
		return fmt.Errorf("reminders: write letter PDF: %w", err)
	}
	return nil
}

// letter wraps fpdf with the translator to Windows-1252 that the core fonts need.
type letter struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	d   Data
	v   view
	act bool // an act, which names the debtor by fiscal code in the address block
}

func newLetter(d Data, title string) *letter {
	pdf := fpdf.New("P", "mm", "A4", "")
	at := d.StepDate.Time()
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(title+" prot. n. "+d.Reference, true)
	pdf.SetAuthor(d.CreditorName, true)
	pdf.SetCreator("incasso", true)
	pdf.SetLang("it-IT")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.AliasNbPages("{nb}")
	l := &letter{pdf: pdf, tr: pdf.UnicodeTranslatorFromDescriptor(""), d: d, v: newView(ChannelPEC, d)}
	pdf.SetFooterFunc(func() {
		l.font("", 8, grey)
		pdf.SetXY(margin, pageH-margin+6)
		pdf.CellFormat(textW, 4, l.tr(fmt.Sprintf("%s prot. n. %s del %s - pagina %d di {nb}",
			title, d.Reference, l.v.StepDate, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	return l
}

func (l *letter) font(style string, size float64, c rgb) {
	l.pdf.SetFont("Helvetica", style, size)
	l.pdf.SetTextColor(c.r, c.g, c.b)
}

// line prints s on one line at (x, y), w wide.
func (l *letter) line(x, y, w, h float64, s string) {
	l.pdf.SetXY(x, y)
	l.pdf.CellFormat(w, h, l.tr(s), "", 0, "L", false, 0, "")
}

// para prints s as a justified paragraph at the left margin from the current line, and
// leaves a gap after it.
func (l *letter) para(s string) {
	l.pdf.SetX(margin)
	l.pdf.MultiCell(textW, lineH, l.tr(s), "", "J", false)
	l.pdf.Ln(2)
}

// heading prints a section title, on the next page if nothing of the section would fit.
func (l *letter) heading(s string) {
	if l.pdf.GetY() > pageH-margin-25 {
		l.pdf.AddPage()
	}
	l.font("B", 10, blue)
	l.pdf.SetX(margin)
	l.pdf.CellFormat(textW, 6, l.tr(s), "", 1, "L", false, 0, "")
	l.font("", 10, ink)
}

func (l *letter) header() {
	l.font("B", 15, ink)
	l.line(margin, margin, textW, 7, l.d.CreditorName)
	y := margin + 7.0
	l.font("", 10, grey)
	if l.d.Office != "" {
		l.line(margin, y, textW, 5, l.d.Office)
		y += 5
	}
	l.line(margin, y, textW, 5, "Codice fiscale "+l.d.CreditorFiscalCode)
	y += 5
	if l.d.Contact != "" {
		l.line(margin, y, textW, 5, l.d.Contact)
		y += 5
	}
	l.pdf.SetDrawColor(blue.r, blue.g, blue.b)
	l.pdf.SetLineWidth(0.4)
	l.pdf.Line(margin, y+2, pageW-margin, y+2)
}

// addresses prints the protocol number and date on the left and the debtor's address block
// on the right.
func (l *letter) addresses() {
	l.font("", 10, ink)
	l.line(margin, addressY, addressX-margin-5, 5, "Prot. n. "+l.d.Reference)
	l.line(margin, addressY+5, addressX-margin-5, 5, "Data: "+l.v.StepDate)

	w := pageW - margin - addressX
	l.font("", 8, grey)
	l.line(addressX, addressY, w, 4, "Destinatario")
	l.font("B", 11, ink)
	l.pdf.SetXY(addressX, addressY+4)
	l.pdf.MultiCell(w, 5.5, l.tr(l.d.DebtorName), "", "L", false)
	l.font("", 10, ink)
	if l.act {
		l.pdf.SetX(addressX)
		l.pdf.MultiCell(w, 5, l.tr("Codice fiscale "+l.d.DebtorFiscalCode), "", "L", false)
	}
	for _, a := range l.d.DebtorAddress {
		l.pdf.SetX(addressX)
		l.pdf.MultiCell(w, 5, l.tr(a), "", "L", false)
	}
	l.pdf.SetY(max(l.pdf.GetY(), addressY+35) + 8)
}

func (l *letter) body() {
	d, v := l.d, l.v
	l.font("B", 11, ink)
	l.pdf.SetX(margin)
	l.pdf.MultiCell(textW, 5.5, l.tr("OGGETTO: Avviso di accertamento esecutivo per omesso pagamento - "+d.Description), "", "L", false)
	l.font("", 10, ink)
	l.pdf.SetX(margin)
	l.pdf.MultiCell(textW, 5, l.tr("emesso ai sensi dell'"+LegalBasis), "", "L", false)
	l.pdf.Ln(4)

	l.para(fmt.Sprintf("Dagli atti d'ufficio risulta che non è stato pagato entro la scadenza del %s "+
		"l'avviso di pagamento pagoPA n. %s relativo a: %s. Pertanto l'ente creditore, con il "+
		"presente atto, accerta il mancato pagamento e", v.DueDate, v.NoticeCode, d.Description))
	l.font("B", 11, ink)
	l.pdf.SetX(margin)
	l.pdf.CellFormat(textW, 7, l.tr("INTIMA"), "", 1, "C", false, 0, "")
	l.font("", 10, ink)
	l.para(fmt.Sprintf("a %s, codice fiscale %s, il pagamento della somma di € %s entro %d giorni "+
		"dalla data di notifica del presente atto.", d.DebtorName, d.DebtorFiscalCode, v.Amount, d.payDays()))
	l.facts()

	l.heading("TITOLO ESECUTIVO")
	l.para(fmt.Sprintf("Ai sensi dell'%s, il presente atto, decorso il termine di %d giorni dalla "+
		"notifica utile per proporre ricorso, acquista efficacia di titolo esecutivo senza la "+
		"preventiva notifica di cartella di pagamento o di ingiunzione fiscale. Decorsi ulteriori "+
		"%d giorni dal termine ultimo per il pagamento, la riscossione delle somme richieste è "+
		"affidata al soggetto legittimato alla riscossione forzata, anche ai fini dell'esecuzione "+
		"forzata e delle misure cautelari.", LegalBasis, PayOrAppealDays, d.handoverDays()))
	l.para("In caso di pagamento oltre il termine sono dovuti gli interessi di mora e gli oneri di " +
		"riscossione a carico del debitore previsti dall'art. 1, commi 802 e 803, della legge " +
		"27 dicembre 2019, n. 160, oltre alle spese di notifica e alle spese delle procedure esecutive e cautelari.")

	l.howToPay()
	l.para("Entro il termine di pagamento può chiedere la rateizzazione della somma dovuta, secondo " +
		"il regolamento dell'ente e l'art. 1, commi 796 e seguenti, della legge 27 dicembre 2019, n. 160.")

	l.heading("RICORSO E AUTOTUTELA")
	l.para(fmt.Sprintf("Contro il presente atto è possibile proporre ricorso, entro %d giorni dalla "+
		"notifica, %s. Può inoltre chiedere all'ufficio che ha emesso l'atto il riesame in autotutela; "+
		"la richiesta non sospende i termini per il pagamento e per il ricorso.", PayOrAppealDays, Appeal))
	if d.Contact != "" {
		l.para("Per informazioni: " + d.Contact + ".")
	}
}

// sollecitoBody is the sollecito's: the notice not paid, its figures, how to pay it, what
// follows otherwise.
func (l *letter) sollecitoBody() {
	d, v := l.d, l.v
	l.font("B", 11, ink)
	l.pdf.SetX(margin)
	l.pdf.MultiCell(textW, 5.5, l.tr("OGGETTO: Sollecito di pagamento - "+d.Description), "", "L", false)
	l.pdf.Ln(4)
	l.font("", 10, ink)
	l.para(fmt.Sprintf("Gentile %s, non ci risulta ancora pagato l'avviso di pagamento pagoPA n. %s "+
		"relativo a: %s, scaduto il %s. La invitiamo a pagarlo al più presto.", d.DebtorName, v.NoticeCode, d.Description, v.DueDate))
	l.facts()
	l.howToPay()
	l.para(fmt.Sprintf("In mancanza di pagamento, l'ente emetterà l'avviso di accertamento esecutivo "+
		"previsto dall'%s, con l'aggiunta di interessi, eventuali sanzioni e spese di notifica e di riscossione.", LegalBasis))
	l.para("Se ha già pagato, non tenga conto di questo sollecito: il pagamento può essere registrato con qualche giorno di ritardo.")
	if d.Contact != "" {
		l.para("Per informazioni: " + d.Contact + ".")
	}
}

// howToPay prints how to pay the notice with pagoPA, by its code.
func (l *letter) howToPay() {
	l.heading("COME PAGARE")
	l.para(fmt.Sprintf("Può pagare con pagoPA sul sito o nell'app della Sua banca, di Poste Italiane o "+
		"degli altri prestatori di servizi di pagamento aderenti, oppure presso gli sportelli bancari, "+
		"gli uffici postali, le tabaccherie e i punti vendita che espongono il marchio pagoPA, "+
		"indicando il codice avviso %s, il codice fiscale dell'ente creditore %s e l'importo di € %s.",
		l.v.NoticeCode, l.d.CreditorFiscalCode, l.v.Amount))
}

// facts prints the box with the figures of the demand.
func (l *letter) facts() {
	v := l.v
	rows := [][2]string{
		{"Importo dovuto", "€ " + v.Amount},
		{"Scadenza originaria", v.DueDate},
		{"Codice avviso pagoPA", v.NoticeCode},
		{"Codice fiscale ente creditore", l.d.CreditorFiscalCode},
	}
	const rowH, labelW = 6.0, 60.0
	h := float64(len(rows))*rowH + 4
	if l.pdf.GetY()+h > pageH-margin {
		l.pdf.AddPage()
	}
	y := l.pdf.GetY() + 1
	l.pdf.SetDrawColor(grey.r, grey.g, grey.b)
	l.pdf.SetFillColor(235, 241, 247)
	l.pdf.SetLineWidth(0.3)
	l.pdf.Rect(margin, y, textW, h, "FD")
	for i, r := range rows {
		yy := y + 2 + float64(i)*rowH
		l.font("", 10, grey)
		l.line(margin+4, yy, labelW, rowH, r[0])
		l.font("B", 11, ink)
		l.line(margin+4+labelW, yy, textW-8-labelW, rowH, r[1])
	}
	l.pdf.SetY(y + h + 5)
	l.font("", 10, ink)
}

// signature prints the date and the signature block, together on one page.
func (l *letter) signature() {
	const h = 30.0
	if l.pdf.GetY()+h > pageH-margin {
		l.pdf.AddPage()
	}
	y := l.pdf.GetY() + 4
	l.font("", 10, ink)
	l.line(margin, y, 60, 5, l.v.StepDate)
	const x, w = 110.0, pageW - margin - 110.0
	l.pdf.SetXY(x, y)
	l.pdf.CellFormat(w, 5, l.tr("Il Funzionario responsabile"), "", 2, "C", false, 0, "")
	if name := strings.TrimSpace(l.d.Official); name != "" {
		l.font("B", 10, ink)
		l.pdf.CellFormat(w, 6, l.tr(name), "", 2, "C", false, 0, "")
	}
	l.font("", 7.5, grey)
	l.pdf.SetX(x)
	l.pdf.MultiCell(w, 3.5, l.tr("Firma autografa sostituita a mezzo stampa ai sensi dell'art. 3, "+
		"comma 2, del decreto legislativo 12 febbraio 1993, n. 39"), "", "C", false)
}
