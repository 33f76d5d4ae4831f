package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"incasso/domain/instalments"
	"incasso/domain/keyring"
	"incasso/domain/money"
	"incasso/domain/sepa"
)

// SDD is how the comune collects instalments by SEPA Direct Debit (SDD Core).
type SDD struct {
	// Account names the creditor account in workflow IDs (INCASSO_SDD_ACCOUNT): an alias,
	// never the IBAN.
	Account      string
	CreditorIBAN string // INCASSO_SDD_IBAN, the account credited; defaults to INCASSO_EC_IBAN
	CreditorBIC  string // INCASSO_SDD_BIC, optional: NOTPROVIDED when empty
	// CreditorID is the SEPA creditor identifier (INCASSO_SDD_CREDITOR_ID); by default the
	// Italian one computed from the EC's fiscal code.
	CreditorID string
	BankURL    string // INCASSO_BANK_URL, the bank's SDD channel
	BankKey    string // INCASSO_BANK_KEY
	// CutoffHour is the bank's cut-off on the business day before a collection date
	// (INCASSO_SDD_CUTOFF_HOUR, Rome time).
	CutoffHour    int
	PrenotifyDays int // INCASSO_SDD_PRENOTIFY_DAYS, calendar days of notice before a collection
	// Day compresses the plans' calendar for demos and tests (INCASSO_SDD_DAY, e.g. 1s); zero,
	// the default, means real days.
	Day time.Duration
	// ReportPoll is how often the bank is asked for a file's status report until it has one
	// (INCASSO_SDD_REPORT_POLL); NotificationsEvery is how often the bank's return and
	// refund notifications are read (INCASSO_SDD_NOTIFICATIONS_EVERY).
	ReportPoll         time.Duration
	NotificationsEvery time.Duration
	// TreasuryGraceDays is how many TARGET2 business days a flow's credit, a flow or a
	// collection file's booking may wait for what matches it before it is a difference
	// (INCASSO_TREASURY_GRACE_DAYS).
	TreasuryGraceDays int
	// ReasonsFile overrides the reason-code policy (INCASSO_SDD_REASONS_FILE, JSON).
	ReasonsFile string
	// Eligibility says how many instalments an amount may have: DOMAIN.md's table, or the
	// JSON array of {"upToCents","min","max"} bands in INCASSO_INSTALMENT_TABLE_FILE.
	Eligibility instalments.Table
	// InterestBasisPoints is the yearly interest of plans (INCASSO_INSTALMENT_INTEREST_BP):
	// zero by default, as the comune's rules want.
	InterestBasisPoints int
	// IBANKeys encrypt the mandates' IBANs in PostgreSQL (INCASSO_IBAN_KEYS, "id:base64,..."
	// newest first); nil only with IBANEncryptionOff (INCASSO_IBAN_ENCRYPTION=off) or in the
	// development stack, which generates them.
	IBANKeys          *keyring.Ring
	IBANEncryptionOff bool
}

var accountPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,30}$`)

// sddFromEnv reads the SDD settings; creditor gives the defaults of the account.
func sddFromEnv(creditor Creditor) (SDD, error) {
	s := SDD{
		Account:      env("INCASSO_SDD_ACCOUNT", "tesoreria"),
		CreditorIBAN: env("INCASSO_SDD_IBAN", creditor.IBAN),
		CreditorBIC:  os.Getenv("INCASSO_SDD_BIC"),
		CreditorID:   os.Getenv("INCASSO_SDD_CREDITOR_ID"),
		BankURL:      env("INCASSO_BANK_URL", "http://127.0.0.1:8090"),
		BankKey:      env("INCASSO_BANK_KEY", DevBankKey),
		ReasonsFile:  os.Getenv("INCASSO_SDD_REASONS_FILE"),
	}
	var errs []error
	var err error
	if s.CreditorID == "" {
		s.CreditorID, err = sepa.ItalianCreditorID(creditor.FiscalCode)
	} else {
		err = sepa.ValidateCreditorID(s.CreditorID)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("INCASSO_SDD_CREDITOR_ID: %w", err))
	}
	if os.Getenv("INCASSO_SDD_IBAN") != "" { // else it is INCASSO_EC_IBAN, checked under its name
		if err := sepa.ValidateIBAN(s.CreditorIBAN); err != nil {
			errs = append(errs, fmt.Errorf("INCASSO_SDD_IBAN: %w", err))
		}
	}
	if !accountPattern.MatchString(s.Account) {
		errs = append(errs, errors.New("INCASSO_SDD_ACCOUNT: want 1 to 31 of a-z 0-9 _ - (an alias, not the IBAN)"))
	}
	if s.CutoffHour, err = strconv.Atoi(env("INCASSO_SDD_CUTOFF_HOUR", "14")); err != nil || s.CutoffHour < 0 || s.CutoffHour > 23 {
		errs = append(errs, errors.New("INCASSO_SDD_CUTOFF_HOUR: want an hour 0 to 23"))
	}
	if s.PrenotifyDays, err = strconv.Atoi(env("INCASSO_SDD_PRENOTIFY_DAYS", "14")); err != nil || s.PrenotifyDays < 1 || s.PrenotifyDays > 60 {
		errs = append(errs, errors.New("INCASSO_SDD_PRENOTIFY_DAYS: want 1 to 60 days"))
	}
	if s.Day, err = time.ParseDuration(env("INCASSO_SDD_DAY", "0s")); err != nil || s.Day < 0 {
		errs = append(errs, errors.New("INCASSO_SDD_DAY: want a duration such as 1s, or 0s for real days"))
	}
	if s.ReportPoll, err = time.ParseDuration(env("INCASSO_SDD_REPORT_POLL", "1m")); err != nil || s.ReportPoll < time.Second {
		errs = append(errs, errors.New("INCASSO_SDD_REPORT_POLL: want a duration of at least 1s"))
	}
	if s.NotificationsEvery, err = time.ParseDuration(env("INCASSO_SDD_NOTIFICATIONS_EVERY", "1h")); err != nil || s.NotificationsEvery < time.Second {
		errs = append(errs, errors.New("INCASSO_SDD_NOTIFICATIONS_EVERY: want a duration of at least 1s"))
	}
	if s.TreasuryGraceDays, err = strconv.Atoi(env("INCASSO_TREASURY_GRACE_DAYS", "2")); err != nil || s.TreasuryGraceDays < 0 || s.TreasuryGraceDays > 30 {
		errs = append(errs, errors.New("INCASSO_TREASURY_GRACE_DAYS: want 0 to 30 business days"))
	}
	if s.InterestBasisPoints, err = strconv.Atoi(env("INCASSO_INSTALMENT_INTEREST_BP", "0")); err != nil || s.InterestBasisPoints < 0 || s.InterestBasisPoints > 2000 {
		errs = append(errs, errors.New("INCASSO_INSTALMENT_INTEREST_BP: want 0 to 2000 basis points a year"))
	}
	if s.IBANKeys, s.IBANEncryptionOff, err = ringFromEnv("INCASSO_IBAN_KEYS", "INCASSO_IBAN_ENCRYPTION"); err != nil {
		errs = append(errs, err)
	}
	s.Eligibility = instalments.DefaultTable
	if file := os.Getenv("INCASSO_INSTALMENT_TABLE_FILE"); file != "" {
		if s.Eligibility, err = readTable(file); err != nil {
			errs = append(errs, fmt.Errorf("INCASSO_INSTALMENT_TABLE_FILE: %w", err))
		}
	}
	return s, errors.Join(errs...)
}

// readTable reads an eligibility table from a JSON file and validates it.
func readTable(path string) (instalments.Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var bands []struct {
		UpToCents int64 `json:"upToCents"`
		Min       int   `json:"min"`
		Max       int   `json:"max"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bands); err != nil {
		return nil, err
	}
	table := make(instalments.Table, len(bands))
	for i, b := range bands {
		table[i] = instalments.Band{UpTo: money.Cents(b.UpToCents), Min: b.Min, Max: b.Max}
	}
	return table, table.Validate()
}
