// Package mail composes RFC 5322 messages and delivers them over SMTP.
//
// Messages are rendered deterministically, so that the same Message always
// yields the same bytes: the archive stores a hash of what was sent as proof.
// Errors never echo addresses or other field values, which are personal data.
package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Attachment is a file attached to a Message.
type Attachment struct {
	Filename    string // required, may contain non-ASCII characters
	ContentType string // e.g. "application/pdf"; empty means application/octet-stream
	Data        []byte
}

// Message is an e-mail with a plain text body, optionally an HTML alternative
// of it, and optional attachments.
type Message struct {
	From    string // sender, e.g. `"Comune di Esempio" <tributi@comune.example.it>`
	To      string // one recipient address
	Subject string
	// MessageID is the Message-ID without angle brackets, e.g.
	// "debt-42-notice@incasso.local". It is required: it identifies the
	// message for dedupe and proof, and the MIME boundary is derived from it.
	MessageID string
	Date      time.Time // required, written in RFC 5322 form
	Text      string    // plain text body, UTF-8
	// HTML, if set, is an HTML version of Text (a complete document, UTF-8):
	// clients that can show HTML show it, the others Text.
	HTML        string
	Attachments []Attachment
}

// Bytes renders the exact bytes to send, with CRLF line endings.
//
// The body is Text as a single text/plain part or, when HTML is set, a
// multipart/alternative of text/plain then text/html. A message with
// attachments is multipart/mixed: that body first, then the attachments
// base64-encoded. Text and HTML are quoted-printable and a non-ASCII Subject
// is RFC 2047-encoded. The output depends only on m: the MIME boundaries are
// hashes of MessageID.
//
// The error names the invalid field but never its value.
func (m Message) Bytes() ([]byte, error) {
	from, to, err := m.validate()
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(m.Subject))
	header("Date", m.Date.Format(time.RFC1123Z))
	header("Message-ID", "<"+m.MessageID+">")
	header("MIME-Version", "1.0")

	if len(m.Attachments) == 0 && m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, m.Text)
		if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
			b.WriteString("\r\n") // SMTP DATA would add it anyway
		}
		return b.Bytes(), nil
	}

	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(boundary(m.MessageID)); err != nil {
		return nil, err
	}
	if len(m.Attachments) == 0 { // and HTML is set
		header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		b.WriteString("\r\nThis is a multipart message in MIME format.\r\n")
		if err := writeAlternatives(mw, m); err != nil {
			return nil, err
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	header("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\nThis is a multipart message in MIME format.\r\n")

	if m.HTML == "" {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {"text/plain; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		writeQP(w, m.Text)
	} else {
		alt := alternativeBoundary(m.MessageID)
		// Folded, to keep the body's lines within 78 characters.
		contentType := strings.Replace(mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": alt}), "; ", ";\r\n ", 1)
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {contentType}})
		if err != nil {
			return nil, err
		}
		aw := multipart.NewWriter(w)
		if err := aw.SetBoundary(alt); err != nil {
			return nil, err
		}
		if err := writeAlternatives(aw, m); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}

	for _, a := range m.Attachments {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {attachmentType(a)},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		writeBase64(w, a.Data)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeAlternatives writes Text and HTML as the text/plain and text/html
// parts of the multipart/alternative mw, plainest first as RFC 2046 asks.
func writeAlternatives(mw *multipart.Writer, m Message) error {
	for _, alt := range []struct{ contentType, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {alt.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return err
		}
		writeQP(w, alt.body)
	}
	return nil
}

// validate checks every field and returns the parsed addresses.
func (m Message) validate() (from, to *mail.Address, err error) {
	fieldErr := func(field, problem string) error {
		return fmt.Errorf("mail: %s %s", field, problem)
	}
	if from, err = mail.ParseAddress(m.From); err != nil {
		return nil, nil, fieldErr("From", "is not a valid address")
	}
	if to, err = mail.ParseAddress(m.To); err != nil {
		return nil, nil, fieldErr("To", "is not a valid address")
	}
	if !utf8.ValidString(m.Subject) || strings.ContainsAny(m.Subject, "\r\n") {
		return nil, nil, fieldErr("Subject", "must be one line of UTF-8")
	}
	if !validMessageID(m.MessageID) {
		return nil, nil, fieldErr("MessageID", `must be like "left@right", without angle brackets or spaces`)
	}
	if m.Date.IsZero() {
		return nil, nil, fieldErr("Date", "is required")
	}
	if !utf8.ValidString(m.Text) {
		return nil, nil, fieldErr("Text", "is not valid UTF-8")
	}
	if !utf8.ValidString(m.HTML) {
		return nil, nil, fieldErr("HTML", "is not valid UTF-8")
	}
	for i, a := range m.Attachments {
		field := fmt.Sprintf("Attachments[%d]", i)
		if a.Filename == "" || !utf8.ValidString(a.Filename) || strings.ContainsAny(a.Filename, "\r\n") {
			return nil, nil, fieldErr(field+".Filename", "must be a non-empty line of UTF-8")
		}
		if a.ContentType != "" {
			if _, _, err := mime.ParseMediaType(a.ContentType); err != nil {
				return nil, nil, fieldErr(field+".ContentType", "is not a valid media type")
			}
		}
	}
	return from, to, nil
}

// validMessageID accepts printable ASCII "left@right" with no brackets or spaces.
func validMessageID(id string) bool {
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || len(id) > 900 {
		return false
	}
	for _, c := range []byte(id) {
		if c <= ' ' || c > '~' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// boundary derives the MIME boundary from the Message-ID. It starts with
// "=_", which can occur neither in quoted-printable nor in base64 output, so
// it never collides with a body.
func boundary(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return "=_" + hex.EncodeToString(sum[:20])
}

// alternativeBoundary is the boundary of the multipart/alternative nested in
// a multipart/mixed message: another hash of the Message-ID, so that it
// differs from the outer boundary.
func alternativeBoundary(messageID string) string {
	sum := sha256.Sum256([]byte("alternative\x00" + messageID))
	return "=_" + hex.EncodeToString(sum[:20])
}

// encodeSubject RFC 2047-encodes a non-ASCII subject, folding between
// encoded-words to keep lines short.
func encodeSubject(s string) string {
	return strings.ReplaceAll(mime.QEncoding.Encode("utf-8", s), "?= =?", "?=\r\n =?")
}

// attachmentType is the Content-Type of a, with the file name for clients
// that look for it there.
func attachmentType(a Attachment) string {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	mediaType, params, _ := mime.ParseMediaType(ct) // validated already
	if _, ok := params["name"]; !ok {
		params["name"] = a.Filename
	}
	return mime.FormatMediaType(mediaType, params)
}

// writeQP writes text quoted-printable with CRLF line breaks. Writes to a
// bytes.Buffer or a multipart part backed by one cannot fail.
func writeQP(w io.Writer, text string) {
	qp := quotedprintable.NewWriter(w)
	_, _ = qp.Write([]byte(text))
	_ = qp.Close()
}

// writeBase64 writes data base64-encoded in lines of 76 characters.
func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		_, _ = w.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	if enc != "" {
		_, _ = w.Write([]byte(enc + "\r\n"))
	}
}
