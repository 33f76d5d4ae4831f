// Package config reads incasso's configuration from environment variables, with defaults that
// suit `incasso-dev` on one machine. Every variable is listed in the README.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"incasso/domain/fiscalcode"
	"incasso/domain/keyring"
	"incasso/domain/sepa"
)

// Creditor is the comune as pagoPA knows it.
type Creditor struct {
	Name       string // INCASSO_EC_NAME
	FiscalCode string // INCASSO_EC_FISCAL_CODE, 11 digits
	IBAN       string // INCASSO_EC_IBAN, the treasury account credited by pagoPA
	// PostalAccount is the EC's conto corrente postale (INCASSO_EC_POSTAL_ACCOUNT), when it
	// has one: the notices then carry the Poste Data Matrix.
	PostalAccount string
	Segregation   int    // INCASSO_SEGREGATION_CODE, two digits assigned by pagoPA
	BrokerID      string // INCASSO_ID_BROKER_PA, defaults to the EC fiscal code
	StationID     string // INCASSO_ID_STATION, defaults to <EC fiscal code>_01
}

// Service is a kind of amount the comune collects (TARI, IMU, school canteen...).
type Service struct {
	Code string `json:"code"`
	// Transfers split every amount of the service among 1 to 5 beneficiaries.
	Transfers []Beneficiary `json:"transfers"`
	// ExpiresAfterDue: the notice cannot be paid after its due date (GPD switchToExpired).
	// By default a late payment is still accepted.
	ExpiresAfterDue bool `json:"expiresAfterDue,omitempty"`
	// SENDTaxonomy is the code, in SEND's table of the acts a comune notifies, of the
	// service's accertamenti (e.g. 010301P for an entrata patrimoniale, 010401P for school
	// services); empty: INCASSO_SEND_TAXONOMY, the table's code for taxes (010201P).
	SENDTaxonomy string `json:"sendTaxonomy,omitempty"`
}

// Beneficiary is who receives a share of a service's amounts, and under which pagoPA
// taxonomy code (the transfer's category).
type Beneficiary struct {
	Taxonomy    string `json:"taxonomy"`             // e.g. 9/0101108TS/
	IBAN        string `json:"iban,omitempty"`       // empty: the comune's IBAN
	FiscalCode  string `json:"fiscalCode,omitempty"` // empty: the comune
	Name        string `json:"name,omitempty"`       // the beneficiary's name when it is not the comune
	BasisPoints int64  `json:"basisPoints"`          // share of each amount, in parts of 10,000
}

// Config is everything the binaries need.
type Config struct {
	DatabaseURL       string   // DATABASE_URL
	TemporalAddress   string   // INCASSO_TEMPORAL_ADDRESS
	TemporalNamespace string   // INCASSO_TEMPORAL_NAMESPACE
	TaskQueue         string   // INCASSO_TASK_QUEUE
	APIAddr           string   // INCASSO_API_ADDR
	Creditor          Creditor //
	Services          Services // INCASSO_SERVICES_FILE (JSON) or INCASSO_SERVICES: CODE=taxonomy,...
	NodeKey           string   // INCASSO_NODE_KEY: the secret the pagoPA Nodo sends in X-Node-Key
	GPDURL            string   // INCASSO_GPD_URL
	GPDKey            string   // INCASSO_GPD_SUBSCRIPTION_KEY
	GPDReceiptsURL    string   // INCASSO_GPD_RECEIPTS_URL: the payments-receipts service
	// RecoveryEvery is how often the recovery job asks GPD for receipts that never arrived
	// (INCASSO_RECOVERY_EVERY); RecoveryMinAge is how long a notice is left to its push
	// first (INCASSO_RECOVERY_MIN_AGE); RecoveryBatch caps the notices checked per run.
	RecoveryEvery  time.Duration
	RecoveryMinAge time.Duration
	RecoveryBatch  int    // INCASSO_RECOVERY_BATCH
	SMTPAddr       string // INCASSO_SMTP_ADDR
	SMTPUser       string // INCASSO_SMTP_USER
	SMTPPassword   string // INCASSO_SMTP_PASSWORD
	SMTPStartTLS   bool   // INCASSO_SMTP_STARTTLS, true unless set to false
	MailFrom       string // INCASSO_MAIL_FROM
	// PEC is the comune's certified-email account: a second SMTP relay, with TLS.
	PECSMTPAddr     string // INCASSO_PEC_SMTP_ADDR
	PECSMTPUser     string // INCASSO_PEC_SMTP_USER
	PECSMTPPassword string // INCASSO_PEC_SMTP_PASSWORD
	PECStartTLS     bool   // INCASSO_PEC_STARTTLS, true unless set to false
	PECFrom         string // INCASSO_PEC_FROM
	// PECProviders is a PEM file of the PEC providers' certificates (the roots of their
	// signing chains, from AgID's public list of providers) whose signed receipts are
	// believed (INCASSO_PEC_PROVIDERS); required in production.
	PECProviders   string
	RetentionYears int // INCASSO_RETENTION_YEARS, years of keeping every message
	// LadderDay compresses the reminder ladder's days to this length, for demos and tests
	// (INCASSO_LADDER_DAY, e.g. 2s); zero, the default, means calendar days.
	LadderDay time.Duration
	// ConsoleKey signs the web console's session cookies (INCASSO_CONSOLE_KEY, at least 32
	// characters). Empty, the default, means a random key per process: sessions then end
	// when the API restarts and are not shared between API instances.
	ConsoleKey string
	// AuditKey keys the pseudonyms of fiscal codes in the audit trail (INCASSO_AUDIT_KEY, at
	// least 32 characters); empty means INCASSO_CONSOLE_KEY, else a random key per process
	// (a debtor's searches then link only within one process's life).
	AuditKey string
	// DBAppRole is the database role the API and the worker connect with
	// (INCASSO_DB_APP_ROLE, e.g. incasso_app): `incasso migrate`, run as the tables' owner,
	// then grants it only what the application does (migration 00020). Empty: no grants.
	DBAppRole string
	SDD       SDD
	FdR       FdR
	// IO is App IO, and which services send by it.
	IO IO
	// Citizen are the registries of digital domiciles and SEND (INCASSO_INAD_*, INCASSO_INIPEC_*, INCASSO_SEND_*).
	Citizen Citizen
	// TemporalTLS secures the connection to Temporal; TemporalAPIKey authenticates to it
	// (INCASSO_TEMPORAL_API_KEY, Temporal Cloud's API keys). Worker sizes the worker.
	TemporalTLS    TemporalTLS
	TemporalAPIKey string
	Worker         WorkerTuning
	// PayloadKeys encrypt every payload the Temporal client sends (INCASSO_PAYLOAD_KEYS,
	// "id:base64,..." newest first); nil only with PayloadEncryptionOff
	// (INCASSO_PAYLOAD_ENCRYPTION=off) or in the development stack, which generates them.
	PayloadKeys          *keyring.Ring
	PayloadEncryptionOff bool
	// CodecOrigins are the web origins whose pages may call the API's codec server (CORS):
	// INCASSO_CODEC_ORIGINS, comma-separated; empty means the origin of INCASSO_TEMPORAL_UI_URL.
	CodecOrigins []string
	// Node is where the pagoPA Nodo reaches the SOAP endpoint: the API's listener, or its own
	// with mTLS and an address allowlist.
	Node NodeEndpoint
	// Limits are the API's body sizes and request rates.
	Limits Limits
	// Webhooks are the deliveries of the event feed to other systems' endpoints.
	Webhooks Webhooks
	// MetricsAddr is where /metrics is served, apart from the API (INCASSO_METRICS_ADDR,
	// e.g. :9464); empty, the default, serves none.
	MetricsAddr string
	// OTelEndpoint, when set, is the OTLP/HTTP collector that receives traces
	// (INCASSO_OTEL_ENDPOINT, e.g. http://otel-collector:4318); empty, the default, traces nothing.
	OTelEndpoint string
	// Dev marks the development stack (incasso-dev, the end-to-end tests, the bench): it may
	// run with the development secrets and defaults. No environment variable sets it: only the
	// code that starts the stack with its simulators, so that a production operator cannot
	// switch the checks of CheckProduction off by mistake.
	Dev bool
}

// DefaultServices are the services known out of the box, with their pagoPA taxonomy codes.
const DefaultServices = "TARI=9/0101108TS/,IMU=9/0101101IM/,MENSA=9/0201133IM/,SALA=9/0301109AP/"

// FromEnv reads the configuration from the environment, applying defaults, and validates it.
func FromEnv() (Config, error) {
	ec := env("INCASSO_EC_FISCAL_CODE", "00000000000")
	c := Config{
		DatabaseURL:       env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/incasso?sslmode=disable"),
		TemporalAddress:   env("INCASSO_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace: env("INCASSO_TEMPORAL_NAMESPACE", "default"),
		TaskQueue:         env("INCASSO_TASK_QUEUE", "incasso"),
		APIAddr:           env("INCASSO_API_ADDR", "127.0.0.1:8080"),
		MetricsAddr:       os.Getenv("INCASSO_METRICS_ADDR"),
		OTelEndpoint:      os.Getenv("INCASSO_OTEL_ENDPOINT"),
		Creditor: Creditor{
			Name:          env("INCASSO_EC_NAME", "Comune di Esempio"),
			FiscalCode:    ec,
			IBAN:          env("INCASSO_EC_IBAN", "IT60X0542811101000000123456"),
			PostalAccount: os.Getenv("INCASSO_EC_POSTAL_ACCOUNT"),
			BrokerID:      env("INCASSO_ID_BROKER_PA", ec),
			StationID:     env("INCASSO_ID_STATION", ec+"_01"),
		},
		NodeKey:         env("INCASSO_NODE_KEY", DevNodeKey),
		GPDURL:          env("INCASSO_GPD_URL", "http://127.0.0.1:8090/gpd/debt-positions-service/v1"),
		GPDKey:          env("INCASSO_GPD_SUBSCRIPTION_KEY", DevGPDKey),
		GPDReceiptsURL:  env("INCASSO_GPD_RECEIPTS_URL", "http://127.0.0.1:8090/gpd/payments-receipts-service/v1"),
		SMTPAddr:        env("INCASSO_SMTP_ADDR", "127.0.0.1:1025"),
		SMTPUser:        os.Getenv("INCASSO_SMTP_USER"),
		SMTPPassword:    os.Getenv("INCASSO_SMTP_PASSWORD"),
		MailFrom:        env("INCASSO_MAIL_FROM", "tributi@comune.example.it"),
		PECSMTPAddr:     env("INCASSO_PEC_SMTP_ADDR", "127.0.0.1:1026"),
		PECSMTPUser:     os.Getenv("INCASSO_PEC_SMTP_USER"),
		PECSMTPPassword: os.Getenv("INCASSO_PEC_SMTP_PASSWORD"),
		PECFrom:         env("INCASSO_PEC_FROM", "protocollo@pec.comune.example.it"),
		PECProviders:    os.Getenv("INCASSO_PEC_PROVIDERS"),
		ConsoleKey:      os.Getenv("INCASSO_CONSOLE_KEY"),
		AuditKey:        os.Getenv("INCASSO_AUDIT_KEY"),
		DBAppRole:       os.Getenv("INCASSO_DB_APP_ROLE"),
	}
	var errs []error
	var err error
	if c.Creditor.Segregation, err = strconv.Atoi(env("INCASSO_SEGREGATION_CODE", "01")); err != nil || c.Creditor.Segregation < 0 || c.Creditor.Segregation > 99 {
		errs = append(errs, errors.New("INCASSO_SEGREGATION_CODE: want two digits"))
	}
	if c.SMTPStartTLS, err = strconv.ParseBool(env("INCASSO_SMTP_STARTTLS", "true")); err != nil {
		errs = append(errs, errors.New("INCASSO_SMTP_STARTTLS: want true or false"))
	}
	if c.PECStartTLS, err = strconv.ParseBool(env("INCASSO_PEC_STARTTLS", "true")); err != nil {
		errs = append(errs, errors.New("INCASSO_PEC_STARTTLS: want true or false"))
	}
	if c.LadderDay, err = time.ParseDuration(env("INCASSO_LADDER_DAY", "0s")); err != nil || c.LadderDay < 0 {
		errs = append(errs, errors.New("INCASSO_LADDER_DAY: want a duration such as 2s, or 0s for calendar days"))
	}
	if c.RetentionYears, err = strconv.Atoi(env("INCASSO_RETENTION_YEARS", "5")); err != nil || c.RetentionYears < 1 {
		errs = append(errs, errors.New("INCASSO_RETENTION_YEARS: want a whole number of years >= 1"))
	}
	if c.RecoveryEvery, err = time.ParseDuration(env("INCASSO_RECOVERY_EVERY", "1h")); err != nil || c.RecoveryEvery < time.Second {
		errs = append(errs, errors.New("INCASSO_RECOVERY_EVERY: want a duration of at least 1s, such as 1h"))
	}
	if c.RecoveryMinAge, err = time.ParseDuration(env("INCASSO_RECOVERY_MIN_AGE", "30m")); err != nil || c.RecoveryMinAge < 0 {
		errs = append(errs, errors.New("INCASSO_RECOVERY_MIN_AGE: want a duration such as 30m"))
	}
	if c.RecoveryBatch, err = strconv.Atoi(env("INCASSO_RECOVERY_BATCH", "500")); err != nil || c.RecoveryBatch < 1 {
		errs = append(errs, errors.New("INCASSO_RECOVERY_BATCH: want a whole number >= 1"))
	}
	if a := c.Creditor.PostalAccount; a != "" && !postalAccountPattern.MatchString(a) {
		errs = append(errs, errors.New("INCASSO_EC_POSTAL_ACCOUNT: want the postal account number, up to 12 digits"))
	}
	if k := c.ConsoleKey; k != "" && len(k) < 32 {
		errs = append(errs, errors.New("INCASSO_CONSOLE_KEY: want at least 32 characters (random)"))
	}
	if r := c.DBAppRole; r != "" && !roleNamePattern.MatchString(r) {
		errs = append(errs, errors.New("INCASSO_DB_APP_ROLE: want a role name of lower-case letters, digits and _, starting with a letter"))
	}
	if k := c.AuditKey; k != "" && len(k) < 32 {
		errs = append(errs, errors.New("INCASSO_AUDIT_KEY: want at least 32 characters (random)"))
	}
	if kind, err := fiscalcode.Validate(ec); err != nil || kind != fiscalcode.Company {
		errs = append(errs, errors.New("INCASSO_EC_FISCAL_CODE: want the comune's 11-digit fiscal code"))
	}
	if err := c.temporalFromEnv(); err != nil {
		errs = append(errs, err)
	}
	if c.Node, err = nodeFromEnv(); err != nil {
		errs = append(errs, err)
	}
	if c.Limits, err = limitsFromEnv(); err != nil {
		errs = append(errs, err)
	}
	if c.Webhooks, err = webhooksFromEnv(); err != nil {
		errs = append(errs, err)
	}
	if err := sepa.ValidateIBAN(c.Creditor.IBAN); err != nil {
		errs = append(errs, fmt.Errorf("INCASSO_EC_IBAN: %w", err))
	}
	if c.Citizen, err = citizenFromEnv(); err != nil {
		errs = append(errs, err)
	}
	if c.SDD, err = sddFromEnv(c.Creditor); err != nil {
		errs = append(errs, err)
	}
	if c.FdR, err = fdrFromEnv(c.GPDKey); err != nil {
		errs = append(errs, err)
	}
	if file := os.Getenv("INCASSO_SERVICES_FILE"); file != "" {
		if c.Services, err = ReadServicesFile(file); err != nil {
			errs = append(errs, fmt.Errorf("INCASSO_SERVICES_FILE: %w", err))
		}
	} else if c.Services, err = ParseServices(env("INCASSO_SERVICES", DefaultServices)); err != nil {
		errs = append(errs, fmt.Errorf("INCASSO_SERVICES: %w", err))
	}
	if c.IO, err = ioFromEnv(c.Services); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Services are the configured services, each code once.
type Services []Service

// ParseServices reads CODE=taxonomy pairs separated by commas: services whose whole amount
// goes to the comune's IBAN.
func ParseServices(s string) (Services, error) {
	var out Services
	for _, pair := range strings.Split(s, ",") {
		code, taxonomy, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || code == "" || taxonomy == "" {
			return nil, fmt.Errorf("%q is not CODE=taxonomy", pair)
		}
		out = append(out, Service{Code: code, Transfers: []Beneficiary{{Taxonomy: taxonomy, BasisPoints: 10_000}}})
	}
	if err := out.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadServicesFile reads the services from a JSON file: an array of Service, for services
// whose amounts are split among several beneficiaries (e.g. TARI and the provincial TEFA).
func ReadServicesFile(path string) (Services, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out Services
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("not a JSON array of services: %w", err)
	}
	if err := out.validate(); err != nil {
		return nil, err
	}
	return out, nil
}

var (
	serviceCodePattern   = regexp.MustCompile(`^[A-Z0-9_]{1,20}$`)
	taxonomyPattern      = regexp.MustCompile(`^[0-9]/[0-9]{7}[A-Z]{2}/$`)
	ecFiscalCodePattern  = regexp.MustCompile(`^[0-9]{11}$`)
	postalAccountPattern = regexp.MustCompile(`^[0-9]{1,12}$`)
	roleNamePattern      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// validate checks every service: a unique code, 1 to 5 beneficiaries whose shares make the
// whole, taxonomy codes and fiscal codes well formed, IBANs valid (sepa.ValidateIBAN).
func (s Services) validate() error {
	if len(s) == 0 {
		return errors.New("no service")
	}
	seen := map[string]bool{}
	for _, svc := range s {
		switch {
		case !serviceCodePattern.MatchString(svc.Code):
			return fmt.Errorf("service code %q: want 1 to 20 of A-Z 0-9 _", svc.Code)
		case seen[svc.Code]:
			return fmt.Errorf("service %s is listed twice", svc.Code)
		case len(svc.Transfers) < 1 || len(svc.Transfers) > 5:
			return fmt.Errorf("service %s: want 1 to 5 transfers", svc.Code)
		case svc.SENDTaxonomy != "" && !sendTaxonomyPattern.MatchString(svc.SENDTaxonomy):
			return fmt.Errorf("service %s: sendTaxonomy %q: %s", svc.Code, svc.SENDTaxonomy, sendTaxonomyRule)
		}
		seen[svc.Code] = true
		var points int64
		for i, b := range svc.Transfers {
			where := fmt.Sprintf("service %s transfer %d", svc.Code, i+1)
			if b.IBAN != "" {
				if err := sepa.ValidateIBAN(b.IBAN); err != nil {
					return fmt.Errorf("%s: iban: %w", where, err)
				}
			}
			switch {
			case !taxonomyPattern.MatchString(b.Taxonomy):
				return fmt.Errorf("%s: taxonomy %q is not a pagoPA taxonomy code like 9/0101108TS/", where, b.Taxonomy)
			case b.FiscalCode != "" && !ecFiscalCodePattern.MatchString(b.FiscalCode):
				return fmt.Errorf("%s: fiscalCode must be 11 digits", where)
			case b.BasisPoints < 1:
				return fmt.Errorf("%s: basisPoints must be positive", where)
			}
			points += b.BasisPoints
		}
		if points != 10_000 {
			return fmt.Errorf("service %s: basisPoints sum to %d, want 10000", svc.Code, points)
		}
	}
	return nil
}

// Find returns the service with the given code.
func (s Services) Find(code string) (Service, bool) {
	for _, svc := range s {
		if svc.Code == code {
			return svc, true
		}
	}
	return Service{}, false
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
