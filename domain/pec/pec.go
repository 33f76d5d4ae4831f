// Package pec reads the receipts of Italian certified email (Posta Elettronica Certificata,
// DPR 68/2005 and the technical rules of DM 2 November 2005). A receipt is a message the PEC
// provider signs with S/MIME (multipart/signed, a detached PKCS #7 signature) and whose signed
// part carries daticert.xml: what happened to a message (accepted, delivered, not
// delivered...), when, and which message it was (its Message-ID). Verify checks the
// provider's signature against the providers' certificates the caller trusts and reads
// daticert.xml from the signed part only: what lies outside the signature, the envelope's
// headers included, may have been altered by anyone on the way and is not read.
package pec

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"
	"golang.org/x/text/encoding/charmap"
)

// Receipt is what a verified receipt says.
type Receipt struct {
	// Kind is daticert's tipo: accettazione, non-accettazione, presa-in-carico,
	// avvenuta-consegna, errore-consegna, preavviso-errore-consegna, rilevazione-virus.
	Kind string
	// Error is daticert's errore: "nessuno" when none, else e.g. no-dest, virus, altro.
	Error string
	// At is when the provider did what the receipt says (daticert's data, with its zone).
	At time.Time
	// MessageID is the Message-ID of the message the receipt is about, without <>.
	MessageID string
	// Provider is the provider that issued the receipt (gestore-emittente).
	Provider string
	// Signer is the subject of the certificate that signed it.
	Signer string
}

// The ways a receipt is refused; each error Verify returns wraps one of them.
var (
	ErrNotSigned  = errors.New("not an S/MIME signed message (multipart/signed with a PKCS #7 signature)")
	ErrSignature  = errors.New("the signature does not match the signed part")
	ErrUntrusted  = errors.New("the signer is not a trusted PEC provider")
	ErrNoDaticert = errors.New("the signed part has no daticert.xml")
	ErrDaticert   = errors.New("daticert.xml does not say what a receipt says")
)

// kinds are the receipt types of DM 2 November 2005, daticert's tipo (posta-certificata is
// the envelope of a message, not a receipt).
var kinds = map[string]bool{
	"accettazione": true, "non-accettazione": true, "presa-in-carico": true, "avvenuta-consegna": true,
	"errore-consegna": true, "preavviso-errore-consegna": true, "rilevazione-virus": true,
}

// maxParts bounds the MIME parts walked for daticert.xml, so a crafted message cannot make
// the walk long.
const maxParts = 32

// Verify checks raw, a receipt as the PEC mailbox received it, against the providers'
// certificates (roots of their chains) at the instant at, and returns what its signed
// daticert.xml says.
func Verify(raw []byte, providers *x509.CertPool, at time.Time) (Receipt, error) {
	content, signature, err := splitSigned(raw)
	if err != nil {
		return Receipt{}, err
	}
	p7, err := pkcs7.Parse(signature)
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: the signature is not PKCS #7", ErrNotSigned)
	}
	p7.Content = content
	if err := p7.Verify(); err != nil {
		return Receipt{}, ErrSignature
	}
	if err := p7.VerifyWithChainAtTime(providers, at); err != nil {
		return Receipt{}, ErrUntrusted
	}
	xmlData, err := findDaticert(content)
	if err != nil {
		return Receipt{}, err
	}
	r, err := parseDaticert(xmlData)
	if err != nil {
		return Receipt{}, err
	}
	if signer := p7.GetOnlySigner(); signer != nil {
		r.Signer = signer.Subject.String()
	}
	return r, nil
}

// splitSigned returns the signed part of a multipart/signed message, as its bytes were
// signed (lines ending in CRLF), and the DER of its detached signature.
func splitSigned(raw []byte) (content, signature []byte, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not an Internet message", ErrNotSigned)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/signed" || params["boundary"] == "" {
		return nil, nil, ErrNotSigned
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotSigned, err)
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		body = bytes.ReplaceAll(body, []byte("\n"), []byte("\r\n")) // stored with bare LFs
	}
	delimiter := []byte("--" + params["boundary"])
	parts := [][]byte{}
	for rest := body; ; {
		i := indexLine(rest, delimiter)
		if i < 0 {
			break
		}
		if len(parts) > 0 || i > 0 { // the part before, without the CRLF the delimiter takes
			parts = append(parts, bytes.TrimSuffix(rest[:i], []byte("\r\n")))
		} else {
			parts = append(parts, nil) // no preamble
		}
		rest = rest[i+len(delimiter):]
		if bytes.HasPrefix(rest, []byte("--")) {
			break // the close delimiter
		}
		if j := bytes.Index(rest, []byte("\r\n")); j >= 0 {
			rest = rest[j+2:]
		} else {
			return nil, nil, fmt.Errorf("%w: a broken boundary line", ErrNotSigned)
		}
	}
	if len(parts) != 3 { // preamble, signed part, signature
		return nil, nil, fmt.Errorf("%w: want the signed part and the signature", ErrNotSigned)
	}
	sigMsg, err := mail.ReadMessage(bytes.NewReader(parts[2]))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the signature part is unreadable", ErrNotSigned)
	}
	if st, _, _ := mime.ParseMediaType(sigMsg.Header.Get("Content-Type")); st != "application/pkcs7-signature" && st != "application/x-pkcs7-signature" {
		return nil, nil, fmt.Errorf("%w: the second part is not a PKCS #7 signature", ErrNotSigned)
	}
	signature, err = decoded(sigMsg.Header.Get("Content-Transfer-Encoding"), sigMsg.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the signature's encoding", ErrNotSigned)
	}
	return parts[1], signature, nil
}

// indexLine is the index in b of the first delimiter that starts a line, or -1.
func indexLine(b, delimiter []byte) int {
	for from := 0; ; {
		i := bytes.Index(b[from:], delimiter)
		if i < 0 {
			return -1
		}
		i += from
		if i == 0 || bytes.HasSuffix(b[:i], []byte("\r\n")) {
			return i
		}
		from = i + 1
	}
}

// findDaticert returns daticert.xml from the signed part, walking its MIME tree.
func findDaticert(content []byte) ([]byte, error) {
	part, err := mail.ReadMessage(bytes.NewReader(content))
	if err != nil {
		return nil, fmt.Errorf("%w: the signed part is unreadable", ErrNoDaticert)
	}
	seen := 0
	return walk(textproto.MIMEHeader(part.Header), part.Body, &seen)
}

func walk(h textproto.MIMEHeader, body io.Reader, seen *int) ([]byte, error) {
	if *seen++; *seen > maxParts {
		return nil, fmt.Errorf("%w: more than %d parts", ErrNoDaticert, maxParts)
	}
	mt, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil, ErrNoDaticert
			} else if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrNoDaticert, err)
			}
			if x, err := walk(p.Header, p, seen); !errors.Is(err, ErrNoDaticert) {
				return x, err
			}
		}
	}
	if !named(h, "daticert.xml") {
		return nil, ErrNoDaticert
	}
	data, err := decoded(h.Get("Content-Transfer-Encoding"), io.LimitReader(body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: its encoding", ErrDaticert)
	}
	return data, nil
}

// named reports whether the part's file name (Content-Disposition, or Content-Type's name)
// is name.
func named(h textproto.MIMEHeader, name string) bool {
	if _, p, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && strings.EqualFold(p["filename"], name) {
		return true
	}
	_, p, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && strings.EqualFold(p["name"], name)
}

func decoded(encoding string, body io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: body}))
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(body))
	default:
		return io.ReadAll(body)
	}
}

// lineJoiner drops the line breaks of a base64 body.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	out := p[:0]
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			out = append(out, c)
		}
	}
	return len(out), err
}

// daticert is the part of daticert.xml (Postacert.dtd) a receipt needs.
type daticert struct {
	XMLName xml.Name `xml:"postacert"`
	Tipo    string   `xml:"tipo,attr"`
	Errore  string   `xml:"errore,attr"`
	Dati    struct {
		Gestore string `xml:"gestore-emittente"`
		Data    struct {
			Zona   string `xml:"zona,attr"`
			Giorno string `xml:"giorno"`
			Ora    string `xml:"ora"`
		} `xml:"data"`
		MsgID string `xml:"msgid"`
	} `xml:"dati"`
}

func parseDaticert(data []byte) (Receipt, error) {
	var d daticert
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		if l := strings.ToLower(label); l == "iso-8859-1" || l == "latin1" {
			return charmap.ISO8859_1.NewDecoder().Reader(in), nil
		}
		return nil, fmt.Errorf("charset %s", label)
	}
	if err := dec.Decode(&d); err != nil {
		return Receipt{}, fmt.Errorf("%w: not the XML of Postacert.dtd", ErrDaticert)
	}
	if !kinds[d.Tipo] {
		return Receipt{}, fmt.Errorf("%w: tipo is not a receipt's", ErrDaticert)
	}
	at, err := time.Parse("02/01/2006 15:04:05 -0700", strings.TrimSpace(d.Dati.Data.Giorno)+" "+strings.TrimSpace(d.Dati.Data.Ora)+" "+strings.TrimSpace(d.Dati.Data.Zona))
	if err != nil {
		return Receipt{}, fmt.Errorf("%w: data wants giorno dd/mm/yyyy, ora hh:mm:ss and zona +hhmm", ErrDaticert)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d.Dati.MsgID), "<"), ">")
	if id == "" {
		return Receipt{}, fmt.Errorf("%w: no msgid", ErrDaticert)
	}
	return Receipt{Kind: d.Tipo, Error: d.Errore, At: at, MessageID: id, Provider: strings.TrimSpace(d.Dati.Gestore)}, nil
}
