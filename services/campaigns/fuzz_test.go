package campaigns

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// readAll reads every row of a campaign file of any bytes. The reader must end (EOF or a
// *FileError) while consuming input, never panic, number its rows in order and name only the
// fields a debt has (or the unknown field it refuses).
func readAll(t *testing.T, rd rowReader, size int) {
	last := 0
	for n := 0; ; n++ {
		if n > size+2 {
			t.Fatalf("%d rows from %d bytes: the reader does not move on", n, size)
		}
		r, err := rd.next()
		var fileErr *FileError
		switch {
		case err == io.EOF:
			return
		case errors.As(err, &fileErr):
			if fileErr.Message == "" {
				t.Fatalf("a file error without a message: %#v", fileErr)
			}
			return
		case err != nil:
			t.Fatalf("not a *FileError: %v", err)
		}
		if r.no <= last {
			t.Fatalf("row %d after row %d", r.no, last)
		}
		last = r.no
		for _, fe := range r.errs {
			if _, ok := fieldRank[fe.field]; !ok && fe.field != "" && fe.message != "unknown field" {
				t.Fatalf("row %d: error on unknown field %q", r.no, fe.field)
			}
		}
	}
}

const sampleCSV = "iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale\n" +
	"TARI-2026-000001;TARI;F;RSSMRC40A01H501M;Marco Rossi;marco.rossi@example.it;;90,00;31/03/2027;TARI 2026\n" +
	"\"TARI-2026-000002\";TARI;G;01234567890;\"Rossi; figli s.r.l.\";;r@pec.it;1.169,19;30/06/2027;\"rata \"\"unica\"\"\"\n"

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("\xef\xbb\xbf" + sampleCSV))
	f.Add([]byte("iupd,servizio\r\nA,B\r\n"))
	f.Add([]byte("iupd;servizio;tipo;codice_fiscale;nominativo;email;pec;importo;scadenza;causale\nX;\"unterminated\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		readAll(t, newCSVReader(bytes.NewReader(data)), len(data))
	})
}

const sampleJSON = `[{"iupd":"TARI-2026-000001","serviceCode":"TARI","debtor":{"type":"F","fiscalCode":"RSSMRC40A01H501M",` +
	`"fullName":"Marco Rossi","email":"marco.rossi@example.it"},"amountCents":9000,"dueDate":"2027-03-31","description":"TARI 2026"},` +
	`{"iupd":7,"debtor":[],"extra":true},"not an object"]`

func FuzzJSONReader(f *testing.F) {
	f.Add([]byte(sampleJSON))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"iupd":"x"}`))
	f.Add([]byte(`[{"amountCents":1e400}] trailing`))
	f.Add([]byte(`[` + string(bytes.Repeat([]byte(`{"description":"`), 3)) + `"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		readAll(t, newJSONReader(bytes.NewReader(data)), len(data))
	})
}
