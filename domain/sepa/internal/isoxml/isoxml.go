// Package isoxml holds what the readers of ISO 20022 messages (pain.008, pain.002, camt.054)
// share: decoding the one Document element of a file, and reading an ISODateTime.
package isoxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"incasso/domain/date"
)

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

// ParseDateTime reads an ISODateTime; one without a zone is Rome time.
func ParseDateTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02T15:04:05", s, date.Rome)
	}
	return t, err
}
