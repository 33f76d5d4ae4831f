// Package pain008 writes the SEPA Direct Debit Core collection files (ISO 20022 pain.008)
// that the municipality sends to its bank, and reads them back for the bank simulator and
// the tests.
//
// A file is written in one pass by a Writer: the group header, then for each payment
// information (one per collection date, sequence type and creditor account) its header and
// its transactions. The totals (NbOfTxs, CtrlSum) come first in the file, so the caller
// declares them up front, typically from an SQL aggregate, and streams the transactions from
// a cursor: the Writer holds none of them, only their EndToEndIds, to refuse one used twice
// in the file. Close checks that what was written adds up to what was declared and fails
// otherwise; the output must then be discarded.
//
// Two profiles are written: pain.008.001.08 (V08, the default) and the legacy
// pain.008.001.02 (V02). They differ in the namespace and in the element of the agents' BIC
// (BICFI or BIC); an unknown BIC is sent as Othr/Id NOTPROVIDED in both. Every payment
// information is SEPA, CORE, charges SLEV and batch booked (BtchBookg true: one credit per
// payment information on the account, itemised by the bank's camt.054).
//
// The Writer is the last check before the bank: IBANs and the creditor identifier must have
// check digits that match (and an Italian IBAN its CIN, see package sepa), the collection
// date must be a TARGET2 business day, and an EndToEndId is written once per file.
// Identifiers are checked against the SEPA rules (1 to 35 characters of the SEPA Latin set,
// no space in a mandate id); names and remittance text are transliterated to that set by
// sepa.Transliterate (Italian accents lose them, '&' becomes '+', dashes become '-', other
// characters become spaces) and then checked for length.
// Errors are *FieldError values that name the field and the transaction's EndToEndID, never
// the debtor's name or IBAN. CreDtTm is written to the second in Rome time with its offset,
// e.g. 2026-03-02T09:30:00+01:00 (an xs:dateTime, as both schemas require).
package pain008
