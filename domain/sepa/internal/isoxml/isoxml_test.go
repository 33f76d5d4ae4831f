package isoxml

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/domain/date"
)

var camt = Message{Name: "camt.054", Noun: "notification", First: 2, Last: 10}

// doc is a Document as the packages declare theirs.
type doc struct {
	XMLName xml.Name `xml:"Document"`
	Xmlns   string   `xml:"xmlns,attr"`
	MsgID   string   `xml:"GrpHdr>MsgId"`
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	require.Equal(t, "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08", Namespace("camt.054", 8))
	require.Equal(t, "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10", Namespace("pain.002", 10))
}

func TestEncodeAndDecode(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, doc{Xmlns: Namespace("camt.054", 8), MsgID: "M-1"}))
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">`+"\n"+
		"  <GrpHdr>\n    <MsgId>M-1</MsgId>\n  </GrpHdr>\n</Document>\n", buf.String())

	for _, v := range []string{"02", "08", "10"} { // the first, written and last versions read
		var got doc
		require.NoError(t, camt.Decode([]byte(strings.Replace(buf.String(), "001.08", "001."+v, 1)), &got))
		require.Equal(t, "M-1", got.MsgID)
	}
}

// TestDecodeErrors checks the refusals that Parse of camt.054 and pain.002 and, for all but
// the size and the namespace, of pain.008 share.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	const good = `<?xml version="1.0"?>
<!-- a comment --><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><GrpHdr><MsgId>M</MsgId></GrpHdr></Document>
`
	require.NoError(t, camt.Decode([]byte(good), &doc{}))
	for _, tc := range []struct{ old, new, want string }{
		{"camt.054.001.08", "camt.054.001.11", "root element {urn:iso:std:iso:20022:tech:xsd:camt.054.001.11}Document is not the Document of camt.054.001.02 to .001.10"},
		{"camt.054.001.08", "camt.054.001.01", "is not the Document of camt.054.001.02 to .001.10"},
		{"camt.054.001.08", "camt.053.001.08", "is not the Document of camt.054.001.02 to .001.10"},
		{`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">`, "<Document>", "root element {}Document is not the Document"},
		{"Document", "Documento", "root element is Documento, not Document"},
		{"</GrpHdr>", "</GrpHdrX>", "closed by </GrpHdrX>"},
		{"</Document>", "</Document><Document/>", "element Document after the root element"},
		{"</Document>", "</Document>\n<Document/>", "element Document after the root element"},
		{"</Document>", "</Document>?", "text outside the root element"},
		{"</Document>", "</Document>\ntrailing", "text outside the root element"},
		{"<!-- a comment -->", "garbage", "text outside the root element"},
		{"<!-- a comment -->", "<!DOCTYPE Document>", "DOCTYPE and other directives are not accepted"},
		{"<!-- a comment -->", "<!DOCTYPE Document [<!ENTITY x 'y'>]>", "DOCTYPE and other directives are not accepted"},
	} {
		require.Contains(t, good, tc.old)
		err := camt.Decode([]byte(strings.Replace(good, tc.old, tc.new, 1)), &doc{})
		require.ErrorContains(t, err, tc.want, tc.new)
	}
	for _, data := range []string{"", " \n", "<!-- only a comment -->"} {
		require.Error(t, camt.Decode([]byte(data), &doc{}), "no root element in %q", data)
	}
	err := camt.Decode(make([]byte, MaxSize+1), &doc{})
	require.EqualError(t, err, "the notification has 67108865 bytes, more than 67108864")
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	got, err := ParseDateTime("2026-03-02T09:30:00+01:00")
	require.NoError(t, err)
	require.True(t, got.Equal(time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)))
	got, err = ParseDateTime("2026-07-02T09:30:00.123")
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 7, 2, 9, 30, 0, 123e6, date.Rome), got, "zone-less: Rome time")
	for _, bad := range []string{"", "2026-03-02", "02/03/2026 09:30", "2026-03-02T25:00:00"} {
		_, err := ParseDateTime(bad)
		require.Error(t, err, bad)
	}
}

func TestValidTimeAndDate(t *testing.T) {
	t.Parallel()
	require.True(t, ValidTime(time.Date(1900, 1, 1, 0, 0, 0, 0, date.Rome)))
	require.True(t, ValidTime(time.Date(9999, 12, 31, 23, 59, 59, 0, date.Rome)))
	require.False(t, ValidTime(time.Date(1899, 12, 31, 23, 0, 0, 0, date.Rome)))
	require.False(t, ValidTime(time.Time{}))
	require.True(t, ValidDate(date.Date{Year: 2028, Month: time.February, Day: 29}))
	require.True(t, ValidDate(date.Date{Year: 1, Month: time.January, Day: 1}))
	for _, d := range []date.Date{{}, {Year: 2026, Month: time.February, Day: 29}, {Year: 10000, Month: time.January, Day: 1}} {
		require.False(t, ValidDate(d), d)
	}
}

func TestIDProblemAndReasonCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{
		"STS-20260303-000042":   "",
		strings.Repeat("à", 35): "",
		"":                      "is missing",
		strings.Repeat("9", 36): "is longer than 35 characters",
		"a\tb":                  "has control characters or is not UTF-8",
		"a\xffb":                "has control characters or is not UTF-8",
	} {
		require.Equal(t, want, IDProblem(s), s)
	}
	for _, s := range []string{"AM04", "MD06", "FF01", "0000"} {
		require.True(t, ReasonCode(s), s)
	}
	for _, s := range []string{"", "AM4", "AM004", "am04", "AM 4", "ÀM04"} {
		require.False(t, ReasonCode(s), s)
	}
}
