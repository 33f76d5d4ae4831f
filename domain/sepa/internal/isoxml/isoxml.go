// Package isoxml holds what the readers and writers of ISO 20022 messages (pain.008,
// pain.002, camt.054, camt.053) share: the namespaces of their versions, decoding the one
// Document element of a file (its size, root and namespace checked) and encoding one, reading
// an ISODateTime, an amount in euro and a date given either way, and the checks of
// identifiers, reason codes, dates and times that the messages have in common.
package isoxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
)

// Problem is what is wrong with an element read: Sub names the part of it at fault ("/@Ccy",
// "/Dt"), empty for the element itself; the zero Problem is none.
type Problem struct{ Sub, What string }

// Amount is an amount with its currency (ActiveOrHistoricCurrencyAndAmount).
type Amount struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

// Euro is the Amount of c euro cents.
func Euro(c money.Cents) Amount { return Amount{Ccy: "EUR", Value: c.Decimal()} }

// Cents reads an amount of euro with two decimals.
func (a Amount) Cents() (money.Cents, Problem) {
	if a.Ccy != "EUR" {
		return 0, Problem{"/@Ccy", fmt.Sprintf("is %q, not EUR", a.Ccy)}
	}
	c, err := money.ParseDecimal(strings.TrimSpace(a.Value))
	if err != nil {
		return 0, Problem{"", "is not an amount with two decimals"}
	}
	return c, Problem{}
}

// Date is a date given as a date (Dt) or a date and time (DtTm), as bookings are.
type Date struct {
	Dt   string `xml:",omitempty"`
	DtTm string `xml:",omitempty"`
}

// Day reads the date, or the day in Rome of the date and time.
func (d Date) Day() (date.Date, Problem) {
	if dt := strings.TrimSpace(d.Dt); dt != "" {
		day, err := date.Parse(dt)
		if err != nil {
			return date.Date{}, Problem{"/Dt", "is not a date"}
		}
		return day, Problem{}
	}
	t, err := ParseDateTime(strings.TrimSpace(d.DtTm))
	if err != nil {
		return date.Date{}, Problem{"", "is missing or not a date (Dt) or a date and time (DtTm)"}
	}
	return date.InRome(t), Problem{}
}

// MaxSize is the largest file Message.Decode reads, 64 MiB.
const MaxSize = 64 << 20

// Namespace is the XML namespace of version v of the message name, e.g.
// Namespace("camt.054", 8) is urn:iso:std:iso:20022:tech:xsd:camt.054.001.08.
func Namespace(name string, v int) string {
	return fmt.Sprintf("urn:iso:std:iso:20022:tech:xsd:%s.001.%02d", name, v)
}

// Message is an ISO 20022 message in the versions that a package reads.
type Message struct {
	Name        string // e.g. "camt.054"
	Noun        string // what errors call a file of it, e.g. "notification"
	First, Last int    // the versions read, e.g. 2 and 10 for .001.02 to .001.10
}

// Decode decodes the Document of data into v, as DecodeDocument does, once it has checked
// that data is not larger than MaxSize, and checks that the Document's namespace is that of
// a version of m.
func (m Message) Decode(data []byte, v any) error {
	if len(data) > MaxSize {
		return fmt.Errorf("the %s has %d bytes, more than %d", m.Noun, len(data), MaxSize)
	}
	root, err := DecodeDocument(bytes.NewReader(data), v)
	if err != nil {
		return err
	}
	for n := m.First; n <= m.Last; n++ {
		if root.Space == Namespace(m.Name, n) {
			return nil
		}
	}
	return fmt.Errorf("root element {%s}%s is not the Document of %s.001.%02d to .001.%02d",
		root.Space, root.Local, m.Name, m.First, m.Last)
}

// DecodeDocument decodes the root element of r, which must be Document, into v and returns
// its name. Only white space, comments and processing instructions may surround it; a DOCTYPE
// is refused.
func DecodeDocument(r io.Reader, v any) (xml.Name, error) {
	d := xml.NewDecoder(r)
	var root xml.Name
	for {
		tok, err := d.Token()
		if err == io.EOF && root.Local != "" {
			return root, nil
		}
		if err != nil {
			return root, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root.Local != "" {
				return root, fmt.Errorf("element %s after the root element", tok.Name.Local)
			}
			root = tok.Name
			if root.Local != "Document" {
				return root, fmt.Errorf("root element is %s, not Document", root.Local)
			}
			if err := d.DecodeElement(v, &tok); err != nil {
				return root, err
			}
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) > 0 {
				return root, errors.New("text outside the root element")
			}
		case xml.Directive:
			return root, errors.New("DOCTYPE and other directives are not accepted")
		}
	}
}

// Encode writes doc, a Document, to w: the XML declaration, the document indented by two
// spaces and a final line break.
func Encode(w io.Writer, doc any) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// ParseDateTime reads an ISODateTime; one without a zone is Rome time.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04:05", s, date.Rome)
	}
	return t, err
}

// ValidTime reports whether t, in Rome, is in the years 1900 to 9999: since 1900 Rome's
// offsets from UTC are whole minutes, as ISODateTime writes them.
func ValidTime(t time.Time) bool {
	y := t.In(date.Rome).Year()
	return y >= 1900 && y <= 9999
}

// ValidDate reports whether d is a day of the calendar with a four-digit year, as ISODate
// writes it.
func ValidDate(d date.Date) bool {
	return d.Year >= 1 && d.Year <= 9999 && date.Of(d.Time()) == d
}

// IDProblem says what is wrong with s as an identifier of a report (Max35Text: 1 to 35
// characters, none a control character), or "".
func IDProblem(s string) string {
	switch {
	case s == "":
		return "is missing"
	case utf8.RuneCountInString(s) > 35:
		return "is longer than 35 characters"
	case !chars.Printable(s):
		return "has control characters or is not UTF-8"
	}
	return ""
}

// ReasonCode reports whether s is an ISO reason code: 4 capital letters or digits.
func ReasonCode(s string) bool {
	if len(s) != 4 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
