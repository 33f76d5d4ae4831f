package campaigns

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/csvsafe"
	"incasso/domain/fiscalcode"
	"incasso/domain/money"
)

// go test ./services/campaigns -run TestSampleFile -update rewrites docs/examples/campagna-tari-2026.csv.
var update = flag.Bool("update", false, "rewrite docs/examples/campagna-tari-2026.csv")

var samplePath = filepath.Join("..", "..", "docs", "examples", "campagna-tari-2026.csv")

const sampleRows = 1000

// TestSampleFile checks that the sample file is what sampleRow generates, and that all of its
// rows import.
func TestSampleFile(t *testing.T) {
	var buf bytes.Buffer
	w := newSampleWriter(&buf)
	for i := range sampleRows {
		w.row(i)
	}
	require.NoError(t, w.Flush())
	if *update {
		require.NoError(t, os.WriteFile(samplePath, buf.Bytes(), 0o644))
	}
	got, err := os.ReadFile(samplePath)
	require.NoError(t, err)
	require.Equal(t, buf.String(), string(got), "the sample is out of date: go test ./services/campaigns -run TestSampleFile -update")

	pool, cfg := newTestDB(t)
	f, err := os.Open(samplePath)
	require.NoError(t, err)
	defer f.Close()
	res, err := Import(context.Background(), pool, cfg, f, FormatCSV, Options{Name: "TARI 2026", Filename: "campagna-tari-2026.csv", Today: testToday})
	require.NoError(t, err, "%+v", res.Errors)
	require.Equal(t, sampleRows, res.Rows)
	require.Equal(t, sampleRows, res.Valid)
	require.Zero(t, res.Rejected)
	require.Equal(t, sampleRows, countRows(t, pool, res.CampaignID))
}

// sampleWriter writes the header and rows of a realistic TARI campaign, as a spreadsheet
// exports it: ";" separated, decimal comma, dd/mm/yyyy.
type sampleWriter struct{ *csvsafe.Writer }

func newSampleWriter(b interface{ Write([]byte) (int, error) }) sampleWriter {
	w := csvsafe.NewWriter(b, ';', false)
	_ = w.Write([]string{"iupd", "servizio", "tipo", "codice_fiscale", "nominativo", "email", "pec", "importo", "scadenza", "causale"})
	return sampleWriter{w}
}

// row writes the i-th row (from 0): every value derives from i, so the file is the same on
// every run; iupds are unique, codici fiscali valid, due dates in 2027.
func (w sampleWriter) row(i int) {
	_ = w.Write(sampleRow(i))
}

var (
	maleNames = []string{"Marco", "Giuseppe", "Luca", "Francesco", "Alessandro", "Andrea", "Matteo", "Lorenzo",
		"Davide", "Simone", "Stefano", "Paolo", "Giovanni", "Antonio", "Roberto", "Nicolò", "Fabio", "Riccardo", "Salvatore", "Vincenzo"}
	femaleNames = []string{"Giulia", "Francesca", "Chiara", "Sara", "Anna", "Martina", "Elena", "Valentina", "Alessia",
		"Federica", "Laura", "Silvia", "Paola", "Elisa", "Maria", "Rosa", "Caterina", "Beatrice", "Ilaria", "Giorgia"}
	surnames = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
		"Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
		"Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
		"Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti",
		"Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
		"Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo", "Sanna", "Farina", "Rizzi", "Monti",
		"Cattaneo", "Morelli", "Amato", "Silvestri", "Mazza", "Testa", "Dell'Acqua", "Pellegrino", "Carbone", "Giuliani"}
	companies = []string{"Trattoria Da Mario S.r.l.", `Bar "Centrale" S.n.c.`, "Panificio Esposito & Figli S.a.s.",
		"Ferramenta Colombo S.r.l.", "Farmacia San Marco S.r.l.", "Autofficina Greco S.n.c.", "Hotel Belvedere S.p.A.",
		"Pizzeria Vesuvio di Russo Antonio", "Studio Dentistico Bianchi S.r.l.", "Lavanderia Splendor S.n.c."}
	// Belfiore codes of the comuni of birth: Roma, Milano, Napoli, Torino, Palermo, Bologna,
	// Firenze, Venezia, Bari, Catania, Salerno, Padova, Trieste, Lecce, Cagliari.
	belfiore = []string{"H501", "F205", "F839", "L219", "G273", "A944", "D612", "L736", "A662", "C351", "H703", "G224", "L424", "E506", "B354"}
	dueDates = []string{"31/03/2027", "30/06/2027", "30/09/2027"}
)

func sampleRow(i int) []string {
	iupd := fmt.Sprintf("TARI-2026-%06d", i+1)
	due := dueDates[i%len(dueDates)]
	if i%20 == 19 { // a business: partita IVA, PEC, utenza non domestica
		name := companies[(i/20)%len(companies)]
		cf := companyCode(1000000 + i*7919%8999999)
		var words []string // the first two words of three letters or more: trattoriamario
		for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) {
			if len(w) > 2 && len(words) < 2 {
				words = append(words, strings.ToLower(w))
			}
		}
		slug := strings.Join(words, "")
		amount := money.Cents(30_000 + (i*104_729)%450_000) // 300 to 4.800 euro
		return []string{iupd, "TARI", "G", cf, name, "amministrazione@" + slug + ".example.it", slug + "@pec.example.it",
			amount.Italian(), due, "TARI 2026 - utenza non domestica; rata unica"}
	}
	surname := surnames[i%len(surnames)]
	female := (i/len(surnames))%2 == 1
	names := maleNames
	if female {
		names = femaleNames
	}
	first := names[(i%len(surnames)+71*(i/len(surnames)))%len(names)]
	birth := time.Date(1940+(i*37)%65, time.Month(1+(i*5)%12), 1+(i*11)%28, 0, 0, 0, 0, time.UTC)
	cf := personCode(surname, first, birth, female, belfiore[i%len(belfiore)])
	email := asciiLower(first) + "." + asciiLower(surname) + "@example.it"
	pec := ""
	if i%10 == 3 {
		pec = asciiLower(first) + "." + asciiLower(surname) + "@pec.example.it"
	}
	amount := money.Cents(9_000 + (i*7919)%140_000) // 90 to 1.490 euro
	return []string{iupd, "TARI", "F", cf, first + " " + surname, email, pec, amount.Italian(), due,
		"TARI 2026 - utenza domestica, rata unica"}
}

// personCode computes a natural person's codice fiscale, check character included.
func personCode(surname, name string, birth time.Time, female bool, place string) string {
	day := birth.Day()
	if female {
		day += 40
	}
	code := surnameCode(surname) + nameCode(name) + fmt.Sprintf("%02d%c%02d", birth.Year()%100, "ABCDEHLMPRST"[birth.Month()-1], day) + place
	check, err := fiscalcode.CheckChar(code)
	if err != nil {
		panic(err)
	}
	return code + string(check)
}

func surnameCode(s string) string {
	cons, vows := split(s)
	return (cons + vows + "XXX")[:3]
}

func nameCode(s string) string {
	cons, vows := split(s)
	if len(cons) >= 4 {
		return cons[:1] + cons[2:4]
	}
	return (cons + vows + "XXX")[:3]
}

var unaccent = strings.NewReplacer("ò", "o", "à", "a", "è", "e", "é", "e", "ì", "i", "ù", "u")

// split returns the consonants and the vowels of a name, in capitals without accents.
func split(s string) (cons, vows string) {
	for _, r := range strings.ToUpper(unaccent.Replace(s)) {
		switch {
		case strings.ContainsRune("AEIOU", r):
			vows += string(r)
		case r >= 'A' && r <= 'Z':
			cons += string(r)
		}
	}
	return cons, vows
}

// companyCode is an 11-digit partita IVA: 7 serial digits, the office (here 058, Roma) and
// the check digit.
func companyCode(serial int) string {
	d := fmt.Sprintf("%07d058", serial)
	sum := 0
	for i := range 10 {
		v := int(d[i] - '0')
		if i%2 == 1 {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return d + fmt.Sprint((10-sum%10)%10)
}

func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(unaccent.Replace(s)) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSampleCodesValid(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := range sampleRows {
		r := sampleRow(i)
		kind, err := fiscalcode.Validate(r[3])
		require.NoError(t, err, "row %d", i)
		require.Equal(t, map[string]fiscalcode.Kind{"F": fiscalcode.Person, "G": fiscalcode.Company}[r[2]], kind)
		require.False(t, seen[r[0]])
		seen[r[0]] = true
	}
	// A known code: Mario Rossi, born on 10 December 1985, the code of the API tests.
	require.Equal(t, "RSSMRA85T10A562S", personCode("Rossi", "Mario", time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC), false, "A562"))
}
