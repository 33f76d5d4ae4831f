package config

import (
	"errors"
	"strconv"
)

// FdR is how incasso reads pagoPA's reporting flows (flussi di rendicontazione).
type FdR struct {
	URL string // INCASSO_FDR_URL: the FdR organization API, ending in /service/v1
	Key string // INCASSO_FDR_SUBSCRIPTION_KEY; defaults to INCASSO_GPD_SUBSCRIPTION_KEY
	// Hour is when the daily intake runs (INCASSO_FDR_HOUR, Rome time): after the PSPs publish
	// the previous business day's flows.
	Hour int
	// LateAfterBusinessDays is how many business days after its payment a receipt waits for
	// its flow line before it is flagged NO_FLOW_LINE (INCASSO_FDR_LATE_AFTER_DAYS).
	LateAfterBusinessDays int
	// LookbackDays is how far back a run lists the flows published (INCASSO_FDR_LOOKBACK_DAYS):
	// a flow published late or missed by a failed run is read by the next.
	LookbackDays int
}

// fdrFromEnv reads the FdR settings; gpdKey is the default key.
func fdrFromEnv(gpdKey string) (FdR, error) {
	f := FdR{
		URL: env("INCASSO_FDR_URL", "http://127.0.0.1:8090/fdr-org/service/v1"),
		Key: env("INCASSO_FDR_SUBSCRIPTION_KEY", gpdKey),
	}
	var errs []error
	var err error
	if f.Hour, err = strconv.Atoi(env("INCASSO_FDR_HOUR", "7")); err != nil || f.Hour < 0 || f.Hour > 23 {
		errs = append(errs, errors.New("INCASSO_FDR_HOUR: want an hour 0 to 23"))
	}
	if f.LateAfterBusinessDays, err = strconv.Atoi(env("INCASSO_FDR_LATE_AFTER_DAYS", "3")); err != nil || f.LateAfterBusinessDays < 1 || f.LateAfterBusinessDays > 30 {
		errs = append(errs, errors.New("INCASSO_FDR_LATE_AFTER_DAYS: want business days 1 to 30"))
	}
	if f.LookbackDays, err = strconv.Atoi(env("INCASSO_FDR_LOOKBACK_DAYS", "10")); err != nil || f.LookbackDays < 1 || f.LookbackDays > 60 {
		errs = append(errs, errors.New("INCASSO_FDR_LOOKBACK_DAYS: want days 1 to 60"))
	}
	return f, errors.Join(errs...)
}
