package pain008

import (
	"fmt"
	"strings"

	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/domain/sepa/internal/isoxml"
	"incasso/domain/target2"
)

// Limits of the SEPA rulebook and of the schemas.
const (
	maxIDLen         = 35
	maxNameLen       = 70
	maxRemittanceLen = 140
	maxNbOfTxs       = 999_999_999_999_999 // Max15NumericText

	minAmount money.Cents = 1              // 0.01 EUR
	maxAmount money.Cents = 99_999_999_999 // 999999999.99 EUR

	notProvided = "NOTPROVIDED"
)

// checkHeader checks h and returns it as written: the initiating party transliterated.
func (p Profile) checkHeader(h GroupHeader) (GroupHeader, error) {
	bad := func(field, problem string) error {
		return &FieldError{Field: "GroupHeader." + field, Problem: problem}
	}
	var problem string
	if p != V08 && p != V02 {
		return h, fmt.Errorf("pain008: unknown profile %d", p)
	}
	if problem = idProblem(h.MsgID, true); problem != "" {
		return h, bad("MsgID", problem)
	}
	if !isoxml.ValidTime(h.Created) {
		return h, bad("Created", "is not a time of the years 1900 to 9999")
	}
	if problem = totalsProblem(h.NbOfTxs, h.CtrlSum); problem != "" {
		return h, bad("NbOfTxs", problem)
	}
	if h.InitiatingParty, problem = text(h.InitiatingParty, maxNameLen, true); problem != "" {
		return h, bad("InitiatingParty", problem)
	}
	return h, nil
}

// checkPaymentInfo checks pi and returns it as written: the creditor's name transliterated.
func (p Profile) checkPaymentInfo(pi PaymentInfo) (PaymentInfo, error) {
	bad := func(field, problem string) error {
		return &FieldError{PmtInfID: pi.ID, Field: "PaymentInfo." + field, Problem: problem}
	}
	var problem string
	if problem = idProblem(pi.ID, true); problem != "" {
		return pi, bad("ID", problem)
	}
	if !validSequenceType(pi.SequenceType) {
		return pi, bad("SequenceType", "must be FRST, RCUR, OOFF or FNAL")
	}
	if !isoxml.ValidDate(pi.CollectionDate) {
		return pi, bad("CollectionDate", "is not a valid date")
	}
	if !target2.IsBusinessDay(pi.CollectionDate) {
		return pi, bad("CollectionDate", "is not a TARGET2 business day (a weekend or a TARGET2 holiday)")
	}
	if pi.CreditorName, problem = text(pi.CreditorName, maxNameLen, true); problem != "" {
		return pi, bad("CreditorName", problem)
	}
	if err := sepa.ValidateIBAN(pi.CreditorIBAN); err != nil {
		return pi, bad("CreditorIBAN", notValid(err))
	}
	if pi.CreditorBIC != "" && !p.validBIC(pi.CreditorBIC) {
		return pi, bad("CreditorBIC", bicProblem)
	}
	if err := sepa.ValidateCreditorID(pi.CreditorID); err != nil {
		return pi, bad("CreditorID", notValid(err))
	}
	if problem = totalsProblem(pi.NbOfTxs, pi.CtrlSum); problem != "" {
		return pi, bad("NbOfTxs", problem)
	}
	return pi, nil
}

// checkTransaction checks tx, a transaction of pi, and returns it as written: the debtor's
// name and the remittance text transliterated.
func (p Profile) checkTransaction(tx Transaction, pi PaymentInfo) (Transaction, error) {
	bad := func(field, problem string) error {
		return &FieldError{PmtInfID: pi.ID, EndToEndID: tx.EndToEndID, Field: "Transaction." + field, Problem: problem}
	}
	var problem string
	if problem = idProblem(tx.EndToEndID, true); problem != "" {
		return tx, bad("EndToEndID", problem)
	}
	if tx.Amount < minAmount || tx.Amount > maxAmount {
		return tx, bad("Amount", "must be 0.01 to 999999999.99 EUR")
	}
	if problem = idProblem(tx.MandateID, false); problem != "" {
		return tx, bad("MandateID", problem)
	}
	if !isoxml.ValidDate(tx.MandateSigned) {
		return tx, bad("MandateSigned", "is not a valid date")
	}
	if pi.CollectionDate.Before(tx.MandateSigned) {
		return tx, bad("MandateSigned", "is after the collection date")
	}
	if tx.DebtorName, problem = text(tx.DebtorName, maxNameLen, true); problem != "" {
		return tx, bad("DebtorName", problem)
	}
	if err := sepa.ValidateIBAN(tx.DebtorIBAN); err != nil {
		return tx, bad("DebtorIBAN", notValid(err))
	}
	if tx.DebtorBIC != "" && !p.validBIC(tx.DebtorBIC) {
		return tx, bad("DebtorBIC", bicProblem)
	}
	if tx.RemittanceInfo, problem = text(tx.RemittanceInfo, maxRemittanceLen, false); problem != "" {
		return tx, bad("RemittanceInfo", problem)
	}
	return tx, nil
}

// idProblem says what is wrong with s as an identifier, or "": 1 to 35 characters of the
// SEPA set (spaces only if spaces), neither starting nor ending with a space or "/", and
// without "//", as the rulebook wants of references.
func idProblem(s string, spaces bool) string {
	ok := sepa.ValidText(s, maxIDLen) && (spaces || !strings.Contains(s, " ")) &&
		!strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") &&
		!strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/") && !strings.Contains(s, "//")
	switch {
	case ok:
		return ""
	case spaces:
		return "must be 1 to 35 letters, digits, spaces or / - ? : ( ) . , ' + (no space or / first or last, no //)"
	}
	return "must be 1 to 35 letters, digits or / - ? : ( ) . , ' + without spaces (no / first or last, no //)"
}

// text transliterates s to the SEPA set (see sepa.Transliterate) and says what is wrong with
// the result, if anything: longer than limit, or empty when required.
func text(s string, limit int, required bool) (string, string) {
	t := sepa.Transliterate(s)
	switch {
	case t == "" && required:
		return t, "is empty once transliterated to the SEPA character set"
	case len(t) > limit:
		return t, fmt.Sprintf("is %d characters long once transliterated to the SEPA character set, more than %d", len(t), limit)
	}
	return t, ""
}

func validSequenceType(s string) bool {
	return s == "FRST" || s == "RCUR" || s == "OOFF" || s == "FNAL"
}

// totalsProblem says what is wrong with n transactions for sum, or "": n must be 1 to the
// 15 digits the schemas allow, and sum 0.01 to 999999999.99 EUR per transaction.
func totalsProblem(n int, sum money.Cents) string {
	switch {
	case n < 1 || n > maxNbOfTxs:
		return "must be 1 to 999999999999999"
	// sum > n*maxAmount, written so as not to overflow.
	case sum < money.Cents(n) || (sum-1)/maxAmount >= money.Cents(n):
		return "is not possible with CtrlSum: each transaction is 0.01 to 999999999.99 EUR"
	}
	return ""
}

// notValid is the problem of a field that a check of package sepa refused: its error says
// what is wrong, never the value.
func notValid(err error) string { return "is not valid: " + err.Error() }

const bicProblem = "is not a BIC: 8 or 11 capital letters and digits"

// validBIC checks s against the BIC pattern of p's schema: BICFIDec2014Identifier in .08,
// the stricter BICIdentifier in .02.
func (p Profile) validBIC(s string) bool {
	if len(s) != 8 && len(s) != 11 || !isUpperOrDigits(s) {
		return false
	}
	if p == V02 {
		return isUpper(s[:6]) && s[6] != '0' && s[6] != '1' && s[7] != 'O'
	}
	return isUpper(s[4:6])
}

func isUpper(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0
}

func isDigits(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

func isUpperOrDigits(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < '0' || r > '9') }) < 0
}
