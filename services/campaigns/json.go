package campaigns

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"incasso/domain/chars"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/services/debts"
)

// jsonDebt is an element of a JSON campaign file: the body of POST /v1/debts.
type jsonDebt struct {
	IUPD        string `json:"iupd"`
	ServiceCode string `json:"serviceCode"`
	Debtor      struct {
		Type       string `json:"type"`
		FiscalCode string `json:"fiscalCode"`
		FullName   string `json:"fullName"`
		Email      string `json:"email"`
		PEC        string `json:"pec"`
		Address    struct {
			Street     string `json:"street"`
			PostalCode string `json:"postalCode"`
			City       string `json:"city"`
			Province   string `json:"province"`
		} `json:"address"`
	} `json:"debtor"`
	AmountCents money.Cents `json:"amountCents"`
	DueDate     string      `json:"dueDate"`
	Description string      `json:"description"`
	NAV         string      `json:"nav"`
	IUV         string      `json:"iuv"`
	GPDStatus   string      `json:"gpdStatus"`
}

type jsonReader struct {
	guard   *elementGuard
	dec     *json.Decoder
	started bool
	n       int // elements read
}

func newJSONReader(in io.Reader) *jsonReader {
	g := &elementGuard{r: in, limit: maxElementBytes}
	dec := json.NewDecoder(g)
	dec.DisallowUnknownFields()
	return &jsonReader{guard: g, dec: dec}
}

func (j *jsonReader) column(field string) string { return field }

func (j *jsonReader) extended() bool { return true } // known only once read

func (j *jsonReader) message(field, msg string) string {
	if field == "dueDate" && msg == debts.MissingDate {
		return "required: a date as YYYY-MM-DD"
	}
	return msg
}

func (j *jsonReader) next() (row, error) {
	j.guard.limit = j.dec.InputOffset() + maxElementBytes
	if !j.started {
		j.started = true
		tok, err := j.dec.Token()
		if err == io.EOF {
			return row{}, &FileError{Message: "the file is empty"}
		}
		if err != nil {
			return row{}, j.syntax(err)
		}
		if tok != json.Delim('[') {
			return row{}, &FileError{Message: "the file must be a JSON array of debts"}
		}
	}
	if !j.dec.More() {
		if _, err := j.dec.Token(); err != nil { // the closing ]
			return row{}, j.syntax(err)
		}
		if _, err := j.dec.Token(); err != io.EOF {
			return row{}, &FileError{Message: "the file has data after the JSON array"}
		}
		return row{}, io.EOF
	}
	j.n++
	r := row{no: j.n}
	var el jsonDebt
	if err := j.dec.Decode(&el); err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			r.errs, r.unreadable = append(r.errs, fieldError{"", "must be a JSON object"}), true
		case errors.As(err, &typeErr):
			r.errs = append(r.errs, fieldError{typeErr.Field, "must be a JSON " + jsonKind(typeErr.Type.Kind())})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			if uerr != nil || !chars.Printable(name) {
				name = ""
			}
			r.errs = append(r.errs, fieldError{truncate(name, 40), "unknown field"})
		default:
			return row{}, j.syntax(err)
		}
	}
	r.debt = debts.New{
		IUPD: el.IUPD, ServiceCode: el.ServiceCode, Amount: el.AmountCents, Description: el.Description,
		Debtor: debts.Debtor{Type: el.Debtor.Type, FiscalCode: el.Debtor.FiscalCode, FullName: el.Debtor.FullName,
			Email: el.Debtor.Email, PEC: el.Debtor.PEC, Address: debts.Address(el.Debtor.Address)},
		NAV: el.NAV, IUV: el.IUV, GPDStatus: el.GPDStatus,
	}
	r.debt.DueDate, _ = date.Parse(el.DueDate) // zero when unreadable: reported by Validate
	return r, nil
}

// syntax describes malformed JSON by where it is, never by what it says.
func (j *jsonReader) syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, errElementTooLarge):
		return &FileError{Row: j.n, Message: fmt.Sprintf("the element is larger than %d bytes", maxElementBytes)}
	case errors.As(err, &se):
		return &FileError{Row: j.n, Message: fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &FileError{Row: j.n, Message: "the JSON ends too early"}
	default:
		return &FileError{Row: j.n, Message: "malformed JSON"}
	}
}

// jsonKind names the JSON type that decodes into a Go kind.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.String:
		return "string"
	default:
		return "object"
	}
}
