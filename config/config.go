// Package config reads incasso's configuration from environment variables, with defaults that
// suit `incasso dev` on one machine. Every variable is listed in the README.
package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"incasso/fiscalcode"
)

// Creditor is the comune as pagoPA knows it.
type Creditor struct {
	Name        string // INCASSO_EC_NAME
	FiscalCode  string // INCASSO_EC_FISCAL_CODE, 11 digits
	IBAN        string // INCASSO_EC_IBAN, the treasury account credited by pagoPA
	Segregation int    // INCASSO_SEGREGATION_CODE, two digits assigned by pagoPA
	BrokerID    string // INCASSO_ID_BROKER_PA, defaults to the EC fiscal code
	StationID   string // INCASSO_ID_STATION, defaults to <EC fiscal code>_01
}

// Service is a kind of amount the comune collects (TARI, IMU, school canteen...).
type Service struct {
	Code     string
	Taxonomy string // pagoPA taxonomy code of its transfers, e.g. 9/0101108TS/
}

// Config is everything the binaries need.
type Config struct {
	DatabaseURL       string   // DATABASE_URL
	TemporalAddress   string   // INCASSO_TEMPORAL_ADDRESS
	TemporalNamespace string   // INCASSO_TEMPORAL_NAMESPACE
	TaskQueue         string   // INCASSO_TASK_QUEUE
	APIAddr           string   // INCASSO_API_ADDR
	Creditor          Creditor //
	Services          Services // INCASSO_SERVICES: CODE=taxonomy,CODE=taxonomy
	NodeKey           string   // INCASSO_NODE_KEY: the secret the pagoPA Nodo sends in X-Node-Key
	GPDURL            string   // INCASSO_GPD_URL
	GPDKey            string   // INCASSO_GPD_SUBSCRIPTION_KEY
	SMTPAddr          string   // INCASSO_SMTP_ADDR
	SMTPUser          string   // INCASSO_SMTP_USER
	SMTPPassword      string   // INCASSO_SMTP_PASSWORD
	SMTPStartTLS      bool     // INCASSO_SMTP_STARTTLS
	MailFrom          string   // INCASSO_MAIL_FROM
	RetentionYears    int      // INCASSO_RETENTION_YEARS, years of keeping every message
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
		Creditor: Creditor{
			Name:       env("INCASSO_EC_NAME", "Comune di Esempio"),
			FiscalCode: ec,
			IBAN:       env("INCASSO_EC_IBAN", "IT60X0542811101000000123456"),
			BrokerID:   env("INCASSO_ID_BROKER_PA", ec),
			StationID:  env("INCASSO_ID_STATION", ec+"_01"),
		},
		NodeKey:      env("INCASSO_NODE_KEY", "dev-node-key"),
		GPDURL:       env("INCASSO_GPD_URL", "http://127.0.0.1:8090/gpd/debt-positions-service/v1"),
		GPDKey:       env("INCASSO_GPD_SUBSCRIPTION_KEY", "dev-gpd-key"),
		SMTPAddr:     env("INCASSO_SMTP_ADDR", "127.0.0.1:1025"),
		SMTPUser:     os.Getenv("INCASSO_SMTP_USER"),
		SMTPPassword: os.Getenv("INCASSO_SMTP_PASSWORD"),
		MailFrom:     env("INCASSO_MAIL_FROM", "tributi@comune.example.it"),
	}
	var errs []error
	var err error
	if c.Creditor.Segregation, err = strconv.Atoi(env("INCASSO_SEGREGATION_CODE", "01")); err != nil || c.Creditor.Segregation < 0 || c.Creditor.Segregation > 99 {
		errs = append(errs, errors.New("INCASSO_SEGREGATION_CODE: want two digits"))
	}
	if c.SMTPStartTLS, err = strconv.ParseBool(env("INCASSO_SMTP_STARTTLS", "false")); err != nil {
		errs = append(errs, errors.New("INCASSO_SMTP_STARTTLS: want true or false"))
	}
	if c.RetentionYears, err = strconv.Atoi(env("INCASSO_RETENTION_YEARS", "5")); err != nil || c.RetentionYears < 1 {
		errs = append(errs, errors.New("INCASSO_RETENTION_YEARS: want a whole number of years >= 1"))
	}
	if kind, err := fiscalcode.Validate(ec); err != nil || kind != fiscalcode.Company {
		errs = append(errs, errors.New("INCASSO_EC_FISCAL_CODE: want the comune's 11-digit fiscal code"))
	}
	if c.Services, err = ParseServices(env("INCASSO_SERVICES", DefaultServices)); err != nil {
		errs = append(errs, fmt.Errorf("INCASSO_SERVICES: %w", err))
	}
	return c, errors.Join(errs...)
}

// Services are the configured services, each code once.
type Services []Service

// ParseServices reads CODE=taxonomy pairs separated by commas.
func ParseServices(s string) (Services, error) {
	var out Services
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		code, taxonomy, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || code == "" || taxonomy == "" {
			return nil, fmt.Errorf("%q is not CODE=taxonomy", pair)
		}
		if seen[code] {
			return nil, fmt.Errorf("service %s is listed twice", code)
		}
		seen[code] = true
		out = append(out, Service{Code: code, Taxonomy: taxonomy})
	}
	return out, nil
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
