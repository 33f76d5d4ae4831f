package mail_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"incasso/clients/mail"
)

// pdfLike is a few KB of binary data that starts like a PDF.
func pdfLike() []byte {
	b := []byte("%PDF-1.7\n")
	for i := range 5000 {
		b = append(b, byte(i*7+i/256))
	}
	return b
}

func sample() mail.Message {
	return mail.Message{
		From:      `"Comune di Esempio – Tributi" <tributi@comune.example.it>`,
		To:        "mario.rossi@example.org",
		Subject:   "Avviso di pagamento – TARI più",
		MessageID: "debt-42-notice@incasso.local",
		Date:      time.Date(2026, time.March, 2, 10, 30, 0, 0, time.FixedZone("CET", 3600)),
		Text:      "Gentile contribuente,\nin allegato l'avviso di pagamento.\nImporto: 123,45 €   \n\nCordiali saluti\n",
		Attachments: []mail.Attachment{
			{Filename: "avviso-pagamento-è.pdf", ContentType: "application/pdf", Data: pdfLike()},
		},
	}
}

// sampleHTML is sample with an HTML version of its text, with a line longer than
// quoted-printable allows and characters that need escaping.
func sampleHTML() mail.Message {
	m := sample()
	m.HTML = "<!DOCTYPE html>\n<html lang=\"it\"><head><meta charset=\"utf-8\"></head>\n<body>\n" +
		"<p>Gentile contribuente,<br>in allegato l&#39;avviso di pagamento di <b>123,45 €</b>: " +
		strings.Repeat("città di Forlì = più ", 6) + "</p>\n</body></html>\n"
	return m
}

// parse reads raw back with net/mail.
func parse(t *testing.T, raw []byte) *netmail.Message {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	return msg
}

func TestBytesIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := sample().Bytes()
	require.NoError(t, err)
	b, err := sample().Bytes()
	require.NoError(t, err)
	require.Equal(t, a, b)

	other := sample()
	other.MessageID = "debt-43-notice@incasso.local"
	c, err := other.Bytes()
	require.NoError(t, err)
	require.NotEqual(t, a, c)
}

func TestBytesWithHTMLIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, m := range []mail.Message{sampleHTML(), withoutAttachments(sampleHTML())} {
		a, err := m.Bytes()
		require.NoError(t, err)
		b, err := m.Bytes()
		require.NoError(t, err)
		require.Equal(t, a, b)

		m.MessageID = "debt-43-notice@incasso.local"
		c, err := m.Bytes()
		require.NoError(t, err)
		require.NotEqual(t, a, c)
	}
}

// TestBytesWithoutHTMLUnchanged compares messages without HTML with the bytes that Bytes
// produced before it knew about HTML: the archive's hashes of sent messages stay valid.
func TestBytesWithoutHTMLUnchanged(t *testing.T) {
	t.Parallel()
	for file, m := range map[string]mail.Message{
		"testdata/text-attachment.eml": sample(),
		"testdata/text-only.eml":       withoutAttachments(sample()),
	} {
		want, err := os.ReadFile(file)
		require.NoError(t, err)
		raw, err := m.Bytes()
		require.NoError(t, err)
		require.Equal(t, string(want), string(raw), file)
	}
}

func withoutAttachments(m mail.Message) mail.Message {
	m.Attachments = nil
	return m
}

func TestBytesHeadersAndLines(t *testing.T) {
	t.Parallel()
	for _, m := range []mail.Message{sample(), sampleHTML(), withoutAttachments(sampleHTML())} {
		raw, err := m.Bytes()
		require.NoError(t, err)
		requireHeadersAndLines(t, raw)
	}
}

func requireHeadersAndLines(t *testing.T, raw []byte) {
	t.Helper()
	s := string(raw)
	require.Contains(t, s, "To: <mario.rossi@example.org>\r\n")
	require.Contains(t, s, "Date: Mon, 02 Mar 2026 10:30:00 +0100\r\n")
	require.Contains(t, s, "Message-ID: <debt-42-notice@incasso.local>\r\n")
	require.Contains(t, s, "MIME-Version: 1.0\r\n")
	require.True(t, strings.HasSuffix(s, "\r\n"))
	header, body, ok := strings.Cut(s, "\r\n\r\n")
	require.True(t, ok)
	for _, part := range []struct {
		text    string
		maxLine int
	}{{header, 998}, {body, 78}} { // RFC 5322 limit; 76 for QP and base64
		for _, line := range strings.Split(strings.TrimSuffix(part.text, "\r\n"), "\r\n") {
			require.NotContains(t, line, "\n", "bare LF")
			require.NotContains(t, line, "\r", "bare CR")
			require.LessOrEqual(t, len(line), part.maxLine, "line too long: %q", line)
		}
	}

	msg := parse(t, raw)
	from, err := msg.Header.AddressList("From")
	require.NoError(t, err)
	require.Equal(t, "Comune di Esempio – Tributi", from[0].Name)
	require.Equal(t, "tributi@comune.example.it", from[0].Address)
	date, err := msg.Header.Date()
	require.NoError(t, err)
	require.True(t, sample().Date.Equal(date))
}

func TestBytesSubjectRoundTrips(t *testing.T) {
	t.Parallel()
	for _, subject := range []string{
		"Avviso di pagamento – TARI più",
		"Plain ASCII subject",
		strings.Repeat("Sollecito di pagamento – città di Forlì ", 5),
	} {
		m := sample()
		m.Subject = subject
		raw, err := m.Bytes()
		require.NoError(t, err)
		encoded := parse(t, raw).Header.Get("Subject")
		if subject == "Plain ASCII subject" {
			require.Equal(t, subject, encoded)
		} else {
			require.True(t, strings.HasPrefix(encoded, "=?utf-8?"), encoded)
		}
		decoded, err := new(mime.WordDecoder).DecodeHeader(encoded)
		require.NoError(t, err)
		require.Equal(t, subject, decoded)
	}
}

func TestBytesMultipartRoundTrips(t *testing.T) {
	t.Parallel()
	m := sample()
	raw, err := m.Bytes()
	require.NoError(t, err)
	msg := parse(t, raw)

	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])

	text, err := mr.NextPart() // decodes quoted-printable
	require.NoError(t, err)
	require.Equal(t, "text/plain; charset=utf-8", text.Header.Get("Content-Type"))
	body, err := io.ReadAll(text)
	require.NoError(t, err)
	require.Equal(t, m.Text, strings.ReplaceAll(string(body), "\r\n", "\n"))

	att, err := mr.NextPart()
	require.NoError(t, err)
	require.Equal(t, "avviso-pagamento-è.pdf", att.FileName())
	require.Equal(t, "base64", att.Header.Get("Content-Transfer-Encoding"))
	ct, _, err := mime.ParseMediaType(att.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "application/pdf", ct)
	data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, att))
	require.NoError(t, err)
	require.Equal(t, m.Attachments[0].Data, data)

	_, err = mr.NextPart()
	require.ErrorIs(t, err, io.EOF)
}

// requireAlternatives reads the text/plain and text/html parts of the multipart/alternative
// with the given parameters from r and checks that they decode to m.Text and m.HTML.
func requireAlternatives(t *testing.T, r io.Reader, params map[string]string, m mail.Message) {
	t.Helper()
	mr := multipart.NewReader(r, params["boundary"])
	for _, want := range []struct{ contentType, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		part, err := mr.NextPart() // decodes quoted-printable
		require.NoError(t, err)
		require.Equal(t, want.contentType, part.Header.Get("Content-Type"))
		body, err := io.ReadAll(part)
		require.NoError(t, err)
		require.Equal(t, want.body, strings.ReplaceAll(string(body), "\r\n", "\n"))
	}
	_, err := mr.NextPart()
	require.ErrorIs(t, err, io.EOF)
}

func TestBytesHTMLWithoutAttachments(t *testing.T) {
	t.Parallel()
	m := withoutAttachments(sampleHTML())
	raw, err := m.Bytes()
	require.NoError(t, err)
	msg := parse(t, raw)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	require.Empty(t, msg.Header.Get("Content-Transfer-Encoding"))
	requireAlternatives(t, msg.Body, params, m)
}

func TestBytesHTMLWithAttachments(t *testing.T) {
	t.Parallel()
	m := sampleHTML()
	m.Attachments = append(m.Attachments, mail.Attachment{Filename: "lettera.txt", Data: []byte("Lettera\r\n")})
	raw, err := m.Bytes()
	require.NoError(t, err)
	msg := parse(t, raw)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])

	body, err := mr.NextPart()
	require.NoError(t, err)
	mediaType, altParams, err := mime.ParseMediaType(body.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	require.NotEqual(t, params["boundary"], altParams["boundary"])
	requireAlternatives(t, body, altParams, m)

	for _, want := range m.Attachments {
		att, err := mr.NextPart()
		require.NoError(t, err)
		require.Equal(t, want.Filename, att.FileName())
		require.Equal(t, "base64", att.Header.Get("Content-Transfer-Encoding"))
		data, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, att))
		require.NoError(t, err)
		require.Equal(t, want.Data, data)
	}
	_, err = mr.NextPart()
	require.ErrorIs(t, err, io.EOF)
}

func TestBytesWithoutAttachments(t *testing.T) {
	t.Parallel()
	m := sample()
	m.Attachments = nil
	m.Text = "Riga uno\nRiga due senza a capo finale"
	raw, err := m.Bytes()
	require.NoError(t, err)
	msg := parse(t, raw)
	require.Equal(t, "text/plain; charset=utf-8", msg.Header.Get("Content-Type"))
	require.Equal(t, "quoted-printable", msg.Header.Get("Content-Transfer-Encoding"))
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	require.Equal(t, m.Text+"\n", strings.ReplaceAll(string(body), "\r\n", "\n"))
}

func TestBytesValidation(t *testing.T) {
	t.Parallel()
	const secret = "mario.rossi"
	cases := []struct {
		field  string
		change func(*mail.Message)
	}{
		{"From", func(m *mail.Message) { m.From = secret + " at example" }},
		{"To", func(m *mail.Message) { m.To = secret + "@" }},
		{"To", func(m *mail.Message) { m.To = "" }},
		{"Subject", func(m *mail.Message) { m.Subject = "x\r\nBcc: " + secret + "@example.org" }},
		{"MessageID", func(m *mail.Message) { m.MessageID = "" }},
		{"MessageID", func(m *mail.Message) { m.MessageID = "<" + secret + "@incasso.local>" }},
		{"Date", func(m *mail.Message) { m.Date = time.Time{} }},
		{"Text", func(m *mail.Message) { m.Text = "\xff" }},
		{"HTML", func(m *mail.Message) { m.HTML = "<p>" + secret + "\xff</p>" }},
		{"Attachments[0].Filename", func(m *mail.Message) { m.Attachments[0].Filename = "" }},
		{"Attachments[0].ContentType", func(m *mail.Message) { m.Attachments[0].ContentType = secret + "; ;" }},
	}
	for _, c := range cases {
		m := sample()
		m.Attachments = append([]mail.Attachment(nil), m.Attachments...)
		c.change(&m)
		_, err := m.Bytes()
		require.Error(t, err, c.field)
		require.Contains(t, err.Error(), c.field)
		require.NotContains(t, err.Error(), secret)
	}
}
