package console

import (
	"regexp"
)

// italianRules reword, for the console, the messages of a campaign's validation report,
// which the REST API gives in English for the systems that call it. Each rule replaces an
// English phrase; numbers and names come back through the groups ($1...). A message no rule
// knows is shown as it is.
var italianRules = []struct {
	en *regexp.Regexp
	it string
}{
	// The file as a whole.
	{rule(`the file has no data rows`), "il file non ha righe di dati"},
	{rule(`the file is empty`), "il file è vuoto"},
	{rule(`the line is longer than (\d+) bytes`), "la riga è più lunga di $1 byte"},
	{rule(`the file has more than (\d+) rows`), "il file ha più di $1 righe"},
	{rule(`the file is UTF-16: save it as CSV UTF-8`), "il file è in UTF-16: salvarlo come CSV UTF-8"},
	{rule(`the file is not UTF-8: save it as CSV UTF-8`), "il file non è in UTF-8: salvarlo come CSV UTF-8"},
	{rule(`the header row is longer than (\d+) bytes`), "la riga di intestazione è più lunga di $1 byte"},
	{rule(`the first row must be the header, naming the columns `), "la prima riga deve essere l'intestazione, con i nomi delle colonne "},
	{rule(` \(the columns are `), " (le colonne sono "},
	{rule(`missing column `), "colonna mancante "},
	{rule(`unknown column `), "colonna sconosciuta "},
	{rule(`column (.*?) given twice`), "colonna $1 presente due volte"},
	{rule(`(\d+) column\(s\) without a name`), "$1 colonne senza nome"},
	{rule(`the row has (\d+) fields, the header (\d+)`), "la riga ha $1 campi, l'intestazione $2"},
	{rule(`the file must be a JSON array of debts`), "il file deve essere un array JSON di posizioni"},
	{rule(`the file has data after the JSON array`), "il file ha dati dopo l'array JSON"},
	{rule(`the element is larger than (\d+) bytes`), "l'elemento è più grande di $1 byte"},
	{rule(`malformed JSON at byte (\d+)`), "JSON non valido al byte $1"},
	{rule(`the JSON ends too early`), "il JSON termina prima del previsto"},
	{rule(`^malformed JSON$`), "JSON non valido"},
	{rule(`must be a JSON object`), "deve essere un oggetto JSON"},
	{rule(`must be a JSON integer`), "deve essere un numero intero JSON"},
	{rule(`must be a JSON string`), "deve essere una stringa JSON"},
	{rule(`unknown field`), "campo sconosciuto"},
	// One field.
	{rule(`the same iupd as row (\d+)`), "stesso iupd della riga $1"},
	{rule(`iupd already used by an existing debt`), "iupd già usato da una posizione esistente"},
	{rule(`iupd already used in campaign (\d+), which has not created that debt yet`), "iupd già usato nella campagna $1, che non ha ancora creato quella posizione"},
	{rule(`required: 1 to 35 characters among A-Z a-z 0-9 \. _ - \(an opaque key: no personal data\)`), "obbligatorio: da 1 a 35 caratteri tra A-Z a-z 0-9 . _ - (un codice opaco: nessun dato personale)"},
	{rule(`unknown service code`), "codice servizio sconosciuto"},
	{rule(`must be F \(natural person\) or G \(legal person\)`), "deve essere F (persona fisica) o G (persona giuridica)"},
	{rule(`not a valid codice fiscale: `), "codice fiscale non valido: "},
	{rule(`required, at most 70 printable characters on one line`), "obbligatorio, al massimo 70 caratteri stampabili su una riga"},
	{rule(`required, at most 140 printable characters on one line`), "obbligatorio, al massimo 140 caratteri stampabili su una riga"},
	{rule(`required: a plain email address such as nome@example\.it`), "obbligatorio: un indirizzo email semplice come nome@example.it"},
	{rule(`a plain PEC address such as nome@pec\.example\.it, or nothing`), "un indirizzo PEC semplice come nome@pec.example.it, oppure niente"},
	{rule(`a plain email address such as nome@example\.it, or nothing`), "un indirizzo email semplice come nome@example.it, oppure niente"},
	{rule(`\(columns indirizzo, cap, comune, provincia\)`), "(colonne indirizzo, cap, comune, provincia)"},
	{rule(`required unless the debtor has a PEC or a postal address \((.*?)\), where notices then go by post`), "obbligatorio se il debitore non ha una PEC o un indirizzo postale ($1), al quale gli avvisi vanno allora per posta"},
	{rule(`required: the street and number, at most 70 printable characters on one line`), "obbligatorio: via e numero civico, al massimo 70 caratteri stampabili su una riga"},
	{rule(`required: the CAP, 5 digits`), "obbligatorio: il CAP, 5 cifre"},
	{rule(`required: the comune, at most 60 printable characters on one line`), "obbligatorio: il comune, al massimo 60 caratteri stampabili su una riga"},
	{rule(`required: the province's two letters, such as MI`), "obbligatoria: la sigla di due lettere della provincia, come MI"},
	{rule(`not a valid notice number: 18 digits, aux digit (\d) first and check digits last`), "codice avviso non valido: 18 cifre, prima la cifra ausiliaria $1 e in fondo le cifre di controllo"},
	{rule(`not a valid IUV: 17 digits, segregation code first and check digits last`), "IUV non valido: 17 cifre, prima il codice di segregazione e in fondo le cifre di controllo"},
	{rule(`not of this comune's segregation code`), "non è del codice di segregazione di questo comune"},
	{rule(`must be the nav without its first digit, or left out`), "deve essere il nav senza la prima cifra, oppure mancare"},
	{rule(`only with the nav of a position taken over from the previous platform`), "solo con il nav di una posizione ripresa dalla piattaforma precedente"},
	{rule(`required with a nav: the position's state in GPD, one of (.*)`), "obbligatorio con un nav: lo stato della posizione in GPD, uno tra $1"},
	{rule(`the same notice number as row (\d+)`), "stesso codice avviso della riga $1"},
	{rule(`notice number already used by an existing debt`), "codice avviso già usato da una posizione esistente"},
	{rule(`notice number already used in campaign (\d+), which has not created that debt yet`), "codice avviso già usato nella campagna $1, che non ha ancora creato quella posizione"},
	{rule(`must be from 0,01 to (.*) euro`), "deve essere da 0,01 a $1 euro"},
	{rule(`must be an integer number of cents from 1 to (\d+)`), "deve essere un numero intero di centesimi da 1 a $1"},
	{rule(`too small to split among the (\d+) beneficiaries of service (.*)`), "troppo piccolo per essere ripartito tra i $1 beneficiari del servizio $2"},
	{rule(`required: an amount in euro such as 12,50`), "obbligatorio: un importo in euro come 12,50"},
	{rule(`not an amount in euro: write it as 1234,50 or 1\.234,50`), "non è un importo in euro: scriverlo come 1234,50 o 1.234,50"},
	{rule(`ambiguous amount: write it with a decimal comma, as 1\.234,00 or 1234,00`), "importo ambiguo: scriverlo con la virgola decimale, come 1.234,00 o 1234,00"},
	{rule(`required: a date as dd/mm/yyyy or yyyy-mm-dd`), "obbligatoria: una data come gg/mm/aaaa o aaaa-mm-gg"},
	{rule(`required: a date as YYYY-MM-DD`), "obbligatoria: una data come AAAA-MM-GG"},
	{rule(`^required: a date$`), "obbligatoria: una data"},
	{rule(`not a date: write it as dd/mm/yyyy or yyyy-mm-dd`), "non è una data: scriverla come gg/mm/aaaa o aaaa-mm-gg"},
	{rule(`write the year with four digits: dd/mm/yyyy`), "scrivere l'anno con quattro cifre: gg/mm/aaaa"},
	{rule(`not a date of the calendar`), "non è una data del calendario"},
	{rule(`must not be in the past`), "non deve essere nel passato"},
	// Details of a codice fiscale.
	{rule(`check digit mismatch`), "la cifra di controllo non corrisponde"},
	{rule(`check character mismatch`), "il carattere di controllo non corrisponde"},
	{rule(`wrong length (\d+), want (\d+) or (\d+)`), "lunghezza $1, deve essere $2 o $3"},
	{rule(`invalid month letter at position 9`), "lettera del mese non valida in posizione 9"},
	{rule(`day out of range at positions 10-11`), "giorno non valido nelle posizioni 10-11"},
	{rule(`unexpected character at position (\d+)`), "carattere non previsto in posizione $1"},
}

func rule(en string) *regexp.Regexp { return regexp.MustCompile(en) }

// italian rewords a message of the validation report: every rule replaces the English it
// finds, in order, so that a message made of several (a codice fiscale and its detail, the
// problems of a header) is reworded whole.
func italian(msg string) string {
	for _, r := range italianRules {
		msg = r.en.ReplaceAllString(msg, r.it)
	}
	return msg
}
