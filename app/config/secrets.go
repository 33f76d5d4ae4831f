package config

import (
	"errors"
	"fmt"
)

// The development secrets: the defaults of FromEnv, which the simulators of incasso-dev
// expect. Everyone who has read this file knows them.
const (
	DevNodeKey = "dev-node-key"
	DevGPDKey  = "dev-gpd-key"
	DevBankKey = "dev-bank-key"
)

// MinSecretLength is the shortest secret CheckProduction accepts.
const MinSecretLength = 32

// knownSecrets are values no production secret may have: the development secrets and the
// placeholders of deploy/incasso.env.example.
var knownSecrets = map[string]bool{DevNodeKey: true, DevGPDKey: true, DevBankKey: true, "change-me": true}

// secret is a configured secret, by the variable that sets it.
type secret struct {
	variable, value string
	// optional secrets may be empty; short secrets are those set by a third party (an SMTP
	// provider's password), which are only checked against the known values.
	optional, short bool
}

func (c Config) secrets() []secret {
	return []secret{
		{variable: "INCASSO_NODE_KEY", value: c.NodeKey},
		{variable: "INCASSO_GPD_SUBSCRIPTION_KEY", value: c.GPDKey},
		{variable: "INCASSO_BANK_KEY", value: c.SDD.BankKey},
		{variable: "INCASSO_CONSOLE_KEY", value: c.ConsoleKey, optional: true},
		{variable: "INCASSO_AUDIT_KEY", value: c.AuditKey, optional: true},
		{variable: "INCASSO_TEMPORAL_API_KEY", value: c.TemporalAPIKey, optional: true, short: true},
		{variable: "INCASSO_SMTP_PASSWORD", value: c.SMTPPassword, optional: true, short: true},
		{variable: "INCASSO_PEC_SMTP_PASSWORD", value: c.PECSMTPPassword, optional: true, short: true},
	}
}

// SecretVariables are the variables that carry secrets (or, for DATABASE_URL, may): they belong
// in a secret store, such as a Kubernetes Secret, never in a ConfigMap or a manifest.
func SecretVariables() []string {
	names := []string{"DATABASE_URL", "INCASSO_PAYLOAD_KEYS", "INCASSO_IBAN_KEYS", "INCASSO_IO_KEYS"}
	for _, s := range (Config{}).secrets() {
		names = append(names, s.variable)
	}
	return names
}

// CheckProduction refuses a configuration that only the development stack may run with: a
// development secret or placeholder, a secret shorter than MinSecretLength, or no payload or
// IBAN keys unless their encryption is explicitly off. `incasso api` and `incasso worker` call it
// before they connect to anything; a configuration with Dev set passes. The errors name the
// variable, never the value.
func (c Config) CheckProduction() error {
	if c.Dev {
		return nil
	}
	var errs []error
	for _, s := range c.secrets() {
		switch {
		case s.value == "" && s.optional:
		case s.value == "":
			errs = append(errs, fmt.Errorf("%s: required", s.variable))
		case knownSecrets[s.value]:
			errs = append(errs, fmt.Errorf("%s: is a development secret or placeholder, known to everyone: set the real one", s.variable))
		case !s.short && len(s.value) < MinSecretLength:
			errs = append(errs, fmt.Errorf("%s: want at least %d characters (random)", s.variable, MinSecretLength))
		}
	}
	errs = append(errs, c.IO.checkKeys()...)
	if c.PECProviders == "" {
		errs = append(errs, errors.New("INCASSO_PEC_PROVIDERS: required: the PEC providers' certificates, without which a forged delivery receipt would start the legal clock"))
	}
	for _, err := range []error{
		requireRing(c.PayloadKeys, c.PayloadEncryptionOff, "INCASSO_PAYLOAD_KEYS", "INCASSO_PAYLOAD_ENCRYPTION", "what Temporal keeps"),
		requireRing(c.SDD.IBANKeys, c.SDD.IBANEncryptionOff, "INCASSO_IBAN_KEYS", "INCASSO_IBAN_ENCRYPTION", "the mandates' IBANs"),
	} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		errs = append(errs, errors.New("incasso api and incasso worker run only with production secrets; make run starts the development stack"))
	}
	return errors.Join(errs...)
}
