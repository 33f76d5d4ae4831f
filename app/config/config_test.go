package config

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// vars are every variable FromEnv reads.
var vars = []string{
	"DATABASE_URL", "INCASSO_TEMPORAL_ADDRESS", "INCASSO_TEMPORAL_NAMESPACE", "INCASSO_TASK_QUEUE",
	"INCASSO_API_ADDR", "INCASSO_EC_NAME", "INCASSO_EC_FISCAL_CODE", "INCASSO_EC_IBAN",
	"INCASSO_SEGREGATION_CODE", "INCASSO_ID_BROKER_PA", "INCASSO_ID_STATION", "INCASSO_SERVICES",
	"INCASSO_NODE_KEY", "INCASSO_GPD_URL", "INCASSO_GPD_SUBSCRIPTION_KEY", "INCASSO_SMTP_ADDR",
	"INCASSO_SMTP_USER", "INCASSO_SMTP_PASSWORD", "INCASSO_SMTP_STARTTLS", "INCASSO_MAIL_FROM",
	"INCASSO_RETENTION_YEARS", "INCASSO_SERVICES_FILE", "INCASSO_GPD_RECEIPTS_URL", "INCASSO_RECOVERY_EVERY",
	"INCASSO_RECOVERY_MIN_AGE", "INCASSO_RECOVERY_BATCH", "INCASSO_EC_POSTAL_ACCOUNT",
	"INCASSO_LADDER_DAY", "INCASSO_PEC_SMTP_ADDR", "INCASSO_PEC_SMTP_USER", "INCASSO_PEC_SMTP_PASSWORD", "INCASSO_PEC_STARTTLS", "INCASSO_PEC_FROM", "INCASSO_PEC_PROVIDERS",
	"INCASSO_IO_URL", "INCASSO_IO_KEYS",
	"INCASSO_INAD_URL", "INCASSO_INAD_TOKEN", "INCASSO_INIPEC_URL", "INCASSO_INIPEC_CLIENT_ID", "INCASSO_INIPEC_ASSERTION",
	"INCASSO_INIPEC_SCOPE", "INCASSO_SEND_URL", "INCASSO_SEND_API_KEY", "INCASSO_SEND_TAXONOMY",
}

// clearEnv empties every variable FromEnv reads (empty means unset to it), whatever the
// environment the tests run in, and restores them at the end of t.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, v := range vars {
		t.Setenv(v, "")
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "INCASSO_") {
			t.Setenv(name, "")
		}
	}
}

func TestFromEnvDefaults(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)

	require.Equal(t, "00000000000", c.Creditor.FiscalCode)
	require.Equal(t, 1, c.Creditor.Segregation)
	require.Equal(t, "00000000000", c.Creditor.BrokerID)
	require.Equal(t, "00000000000_01", c.Creditor.StationID)
	require.NotEmpty(t, c.Creditor.Name)
	require.NotEmpty(t, c.Creditor.IBAN)
	require.True(t, c.SMTPStartTLS, "emails full of personal data go over TLS unless told otherwise")
	require.True(t, c.PECStartTLS, "PEC goes over TLS unless told otherwise")
	require.Empty(t, c.SMTPUser)
	require.Empty(t, c.SMTPPassword)
	require.Equal(t, 5, c.RetentionYears)
	require.True(t, strings.HasSuffix(c.GPDURL, "/v1"), c.GPDURL)
	for _, s := range []string{
		c.DatabaseURL, c.TemporalAddress, c.TemporalNamespace, c.TaskQueue, c.APIAddr,
		c.NodeKey, c.GPDKey, c.SMTPAddr, c.MailFrom,
	} {
		require.NotEmpty(t, s)
	}

	want, err := ParseServices(DefaultServices)
	require.NoError(t, err)
	require.Equal(t, want, c.Services)
	for _, code := range []string{"TARI", "IMU", "MENSA", "SALA"} {
		s, ok := c.Services.Find(code)
		require.True(t, ok, code)
		require.Equal(t, code, s.Code)
		require.Len(t, s.Transfers, 1)
		require.Equal(t, int64(10_000), s.Transfers[0].BasisPoints)
		require.Empty(t, s.Transfers[0].IBAN, "the comune's own IBAN")
	}
	_, ok := c.Services.Find("NOPE")
	require.False(t, ok)
}

func TestFromEnvOverrides(t *testing.T) {
	clearEnv(t)
	t.Setenv("INCASSO_EC_FISCAL_CODE", "02438750586")
	t.Setenv("INCASSO_SEGREGATION_CODE", "47")
	t.Setenv("INCASSO_SERVICES", " TARI=9/0101108TS/ , CDS=9/0101106TS/")
	t.Setenv("INCASSO_RETENTION_YEARS", "10")
	t.Setenv("INCASSO_SMTP_STARTTLS", "false")
	t.Setenv("INCASSO_SMTP_USER", "incasso")
	t.Setenv("INCASSO_SMTP_PASSWORD", "secret")

	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, "02438750586", c.Creditor.FiscalCode)
	require.Equal(t, "02438750586", c.Creditor.BrokerID, "the broker defaults to the EC")
	require.Equal(t, "02438750586_01", c.Creditor.StationID, "the station defaults to <EC>_01")
	require.Equal(t, 47, c.Creditor.Segregation)
	require.Equal(t, Services{whole("TARI", "9/0101108TS/"), whole("CDS", "9/0101106TS/")}, c.Services)
	require.Equal(t, 10, c.RetentionYears)
	require.False(t, c.SMTPStartTLS)
	require.Equal(t, "incasso", c.SMTPUser)
	require.Equal(t, "secret", c.SMTPPassword)

	t.Setenv("INCASSO_ID_BROKER_PA", "80016350821")
	t.Setenv("INCASSO_ID_STATION", "80016350821_07")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, "80016350821", c.Creditor.BrokerID)
	require.Equal(t, "80016350821_07", c.Creditor.StationID)
}

func TestFromEnvRejectsBadVariables(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"segregation code of three digits", "INCASSO_SEGREGATION_CODE", "123"},
		{"negative segregation code", "INCASSO_SEGREGATION_CODE", "-1"},
		{"segregation code not a number", "INCASSO_SEGREGATION_CODE", "ab"},
		{"EC fiscal code with bad check digit", "INCASSO_EC_FISCAL_CODE", "12345678901"},
		{"EC fiscal code of a person", "INCASSO_EC_FISCAL_CODE", "RSSMRA85T10A562S"},
		{"EC fiscal code too short", "INCASSO_EC_FISCAL_CODE", "0243875058"},
		{"service without taxonomy", "INCASSO_SERVICES", "TARI"},
		{"service listed twice", "INCASSO_SERVICES", "TARI=9/0101108TS/,TARI=9/0101101IM/"},
		{"empty service", "INCASSO_SERVICES", "TARI=9/0101108TS/,,IMU=9/0101101IM/"},
		{"service without code", "INCASSO_SERVICES", "=9/0101108TS/"},
		{"zero retention", "INCASSO_RETENTION_YEARS", "0"},
		{"negative retention", "INCASSO_RETENTION_YEARS", "-5"},
		{"retention not a number", "INCASSO_RETENTION_YEARS", "five"},
		{"STARTTLS neither true nor false", "INCASSO_SMTP_STARTTLS", "maybe"},
		{"postal account with letters", "INCASSO_EC_POSTAL_ACCOUNT", "CC123"},
		{"IO key of an unknown service", "INCASSO_IO_KEYS", "NOPE=0123456789abcdef0123456789abcdef"},
		{"IO key without a service", "INCASSO_IO_KEYS", "0123456789abcdef0123456789abcdef"},
		{"IO service listed twice", "INCASSO_IO_KEYS", "TARI=a,TARI=b"},
		{"IO service without key", "INCASSO_IO_KEYS", "TARI= "},
		{"postal account too long", "INCASSO_EC_POSTAL_ACCOUNT", "1234567890123"},
		{"recovery every zero", "INCASSO_RECOVERY_EVERY", "0s"},
		{"recovery every not a duration", "INCASSO_RECOVERY_EVERY", "hourly"},
		{"recovery min age negative", "INCASSO_RECOVERY_MIN_AGE", "-1m"},
		{"recovery batch zero", "INCASSO_RECOVERY_BATCH", "0"},
		{"services file missing", "INCASSO_SERVICES_FILE", "/nonexistent/services.json"},
		{"PEC STARTTLS neither true nor false", "INCASSO_PEC_STARTTLS", "si"},
		{"ladder day negative", "INCASSO_LADDER_DAY", "-1s"},
		{"EC IBAN with wrong check digits", "INCASSO_EC_IBAN", "IT61X0542811101000000123456"},
		{"EC IBAN with wrong CIN", "INCASSO_EC_IBAN", "IT64Y0542811101000000123456"},
		{"EC IBAN of another shape", "INCASSO_EC_IBAN", "IT60 X054 2811 1010 0000 0123 456"},
		{"SDD IBAN with wrong check digits", "INCASSO_SDD_IBAN", "IT61X0542811101000000123456"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(tt.variable, tt.value)
			_, err := FromEnv()
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.variable)
			for _, other := range vars {
				if other != tt.variable {
					require.NotContains(t, err.Error(), other+":", "only %s is wrong", tt.variable)
				}
			}
		})
	}
}

// TestFromEnvChecksEveryIBAN: each IBAN is checked (mod 97, and the CIN of an Italian one)
// under its own variable, whether or not the other is set; the error never holds the IBAN.
func TestFromEnvChecksEveryIBAN(t *testing.T) {
	const good, bad = "IT60X0542811101000000123456", "IT61X0542811101000000123456"
	for _, tt := range []struct {
		name            string
		ecIBAN, sddIBAN string
		wrong           string // the variable named, "" for none
	}{
		{"EC bad, SDD good", bad, good, "INCASSO_EC_IBAN"},
		{"EC good, SDD bad", good, bad, "INCASSO_SDD_IBAN"},
		{"EC bad, no SDD", bad, "", "INCASSO_EC_IBAN"},
		{"both good", good, "IT98Z1234512345123456789012", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("INCASSO_EC_IBAN", tt.ecIBAN)
			t.Setenv("INCASSO_SDD_IBAN", tt.sddIBAN)
			c, err := FromEnv()
			if tt.wrong == "" {
				require.NoError(t, err)
				require.Equal(t, tt.ecIBAN, c.Creditor.IBAN)
				require.Equal(t, tt.sddIBAN, c.SDD.CreditorIBAN)
				return
			}
			require.ErrorContains(t, err, tt.wrong+": invalid IBAN: check digits do not match")
			require.NotContains(t, err.Error(), bad)
			for _, other := range []string{"INCASSO_EC_IBAN", "INCASSO_SDD_IBAN"} {
				if other != tt.wrong {
					require.NotContains(t, err.Error(), other+":", "only %s is wrong", tt.wrong)
				}
			}
		})
	}
}

func TestFromEnvReportsEveryBadVariable(t *testing.T) {
	clearEnv(t)
	t.Setenv("INCASSO_SEGREGATION_CODE", "123")
	t.Setenv("INCASSO_SMTP_STARTTLS", "maybe")
	t.Setenv("INCASSO_RETENTION_YEARS", "0")
	t.Setenv("INCASSO_EC_FISCAL_CODE", "12345678901")
	t.Setenv("INCASSO_SERVICES", "TARI")
	_, err := FromEnv()
	require.Error(t, err)
	for _, v := range []string{"INCASSO_SEGREGATION_CODE", "INCASSO_SMTP_STARTTLS", "INCASSO_RETENTION_YEARS", "INCASSO_EC_FISCAL_CODE", "INCASSO_SERVICES"} {
		require.Contains(t, err.Error(), v)
	}
}

func TestParseServices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Services
		wantErr string
	}{
		{"TARI=9/0101108TS/", Services{whole("TARI", "9/0101108TS/")}, ""},
		{" TARI=9/0101108TS/ ,IMU=9/0101101IM/", Services{whole("TARI", "9/0101108TS/"), whole("IMU", "9/0101101IM/")}, ""},
		{"TARI=9/01011TS/", nil, "not a pagoPA taxonomy code"},
		{"tari=9/0101108TS/", nil, "service code"},
		{"", nil, "is not CODE=taxonomy"},
		{"TARI", nil, "is not CODE=taxonomy"},
		{"TARI=", nil, "is not CODE=taxonomy"},
		{"=9/0101108TS/", nil, "is not CODE=taxonomy"},
		{"TARI=9/0101108TS/,", nil, "is not CODE=taxonomy"},
		{"TARI=9/0101108TS/,IMU=9/0101101IM/,TARI=9/0101108TS/", nil, "TARI is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseServices(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// whole is a service whose amounts all go to the comune.
func whole(code, taxonomy string) Service {
	return Service{Code: code, Transfers: []Beneficiary{{Taxonomy: taxonomy, BasisPoints: 10_000}}}
}

func TestReadServicesFile(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, content string) string {
		path := t.TempDir() + "/services.json"
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	got, err := ReadServicesFile(write(t, `[
		{"code": "TARI", "transfers": [
			{"taxonomy": "9/0101108TS/", "basisPoints": 9500},
			{"taxonomy": "9/0201102IM/", "iban": "IT60X0542811101000000123456", "fiscalCode": "80000010011", "name": "Provincia", "basisPoints": 500}]},
		{"code": "SALA", "expiresAfterDue": true, "sendTaxonomy": "010301P", "transfers": [{"taxonomy": "9/0301109AP/", "basisPoints": 10000}]}
	]`))
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "80000010011", got[0].Transfers[1].FiscalCode)
	require.True(t, got[1].ExpiresAfterDue)
	require.Equal(t, "010301P", got[1].SENDTaxonomy)
	require.Empty(t, got[0].SENDTaxonomy, "INCASSO_SEND_TAXONOMY's")

	for _, tt := range []struct{ content, wantErr string }{
		{`{}`, "not a JSON array"},
		{`[{"code": "TARI", "transfers": [], "extra": 1}]`, "unknown field"},
		{`[]`, "no service"},
		{`[{"code": "TARI", "transfers": []}]`, "want 1 to 5 transfers"},
		{`[{"code": "TARI", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 9000}]}]`, "sum to 9000"},
		{`[{"code": "TARI", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 10000, "iban": "nope"}]}]`, "transfer 1: iban"},
		{`[{"code": "TARI", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 10000, "iban": "IT61X0542811101000000123456"}]}]`, "service TARI transfer 1: iban: invalid IBAN: check digits do not match"},
		{`[{"code": "TARI", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 10000, "iban": "IT64Y0542811101000000123456"}]}]`, "service TARI transfer 1: iban: invalid IBAN: CIN letter is wrong"},
		{`[{"code": "TARI", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 10000, "fiscalCode": "123"}]}]`, "transfer 1: fiscalCode"},
		{`[{"code": "TARI", "sendTaxonomy": "010202N", "transfers": [{"taxonomy": "9/0101108TS/", "basisPoints": 10000}]}]`, `service TARI: sendTaxonomy "010202N": want a code of SEND's taxonomy for acts with a payment`},
	} {
		_, err := ReadServicesFile(write(t, tt.content))
		require.ErrorContains(t, err, tt.wantErr, tt.content)
	}
	_, err = ReadServicesFile(t.TempDir() + "/missing.json")
	require.Error(t, err)
}

// A service is enabled for IO by its key; the errors name the service, never a key.
func TestFromEnvIOKeys(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.Empty(t, c.IO.Keys, "no service sends by IO unless configured")
	t.Setenv("INCASSO_IO_KEYS", " TARI=tari-secret-key , MENSA=mensa-secret-key")
	t.Setenv("INCASSO_IO_URL", "https://api.io.pagopa.it/api/v1")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"TARI": "tari-secret-key", "MENSA": "mensa-secret-key"}, c.IO.Keys)
	require.Equal(t, "https://api.io.pagopa.it/api/v1", c.IO.URL)
	t.Setenv("INCASSO_IO_KEYS", "TARI=tari-secret-key,NOPE=nope-secret-key")
	_, err = FromEnv()
	require.ErrorContains(t, err, "INCASSO_IO_KEYS: service NOPE is not one of the configured services")
	require.NotContains(t, err.Error(), "secret-key")
}
