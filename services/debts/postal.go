package debts

import (
	"strings"
	"unicode/utf8"

	"incasso/domain/chars"
)

// Address is the debtor's postal address in Italy, where letters go when the debtor has
// neither email nor PEC. Either every part is given or none.
type Address struct {
	Street     string // street and number, e.g. "Via Roma 1"
	PostalCode string // CAP, 5 digits
	City       string
	Province   string // sigla, 2 letters (e.g. "VA")
}

// IsZero tells whether no part of the address is given.
func (a Address) IsZero() bool { return a == Address{} }

// Lines are the address as printed on an envelope: the street, then CAP, city and province.
func (a Address) Lines() []string {
	if a.IsZero() {
		return nil
	}
	return []string{a.Street, a.PostalCode + " " + a.City + " (" + a.Province + ")"}
}

func (a *Address) normalize() {
	a.Street = strings.Join(strings.Fields(a.Street), " ")
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	a.City = strings.Join(strings.Fields(a.City), " ")
	a.Province = strings.ToUpper(strings.TrimSpace(a.Province))
}

// validate adds an error per wrong part of an address that is given, fields named under
// prefix (debtor.address).
func (a Address) validate(prefix string, add func(field, msg string)) {
	if a.IsZero() {
		return
	}
	if c := utf8.RuneCountInString(a.Street); c < 1 || c > 70 || !chars.Printable(a.Street) {
		add(prefix+".street", "required: the street and number, at most 70 printable characters on one line")
	}
	if !chars.Digits(a.PostalCode, 5) {
		add(prefix+".postalCode", "required: the CAP, 5 digits")
	}
	if c := utf8.RuneCountInString(a.City); c < 1 || c > 60 || !chars.Printable(a.City) {
		add(prefix+".city", "required: the comune, at most 60 printable characters on one line")
	}
	if len(a.Province) != 2 || !letter(a.Province[0]) || !letter(a.Province[1]) {
		add(prefix+".province", "required: the province's two letters, such as MI")
	}
}

func letter(c byte) bool { return 'A' <= c && c <= 'Z' }
