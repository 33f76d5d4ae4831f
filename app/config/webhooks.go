package config

import (
	"errors"
	"strconv"
	"time"
)

// Webhooks is how incasso delivers the event feed to the endpoints other systems register.
type Webhooks struct {
	// PollEvery is how often an endpoint's workflow looks for new events while none come
	// (INCASSO_WEBHOOK_POLL_EVERY, default 2s).
	PollEvery time.Duration
	// GiveUpAfter is how long a delivery is retried, with backoff, before its endpoint is
	// disabled (INCASSO_WEBHOOK_GIVE_UP_AFTER, default 72h).
	GiveUpAfter time.Duration
	// FirstRetry is the wait after a first failed attempt, doubling at each one up to an hour
	// (INCASSO_WEBHOOK_FIRST_RETRY, default 10s).
	FirstRetry time.Duration
	// SecretGrace is how long the previous secret still signs after a rotation
	// (INCASSO_WEBHOOK_SECRET_GRACE, default 24h).
	SecretGrace time.Duration
	// AllowPrivate lets endpoints resolve to loopback, private and link-local addresses
	// (INCASSO_WEBHOOK_ALLOW_PRIVATE, default false: no request of incasso's reaches into the
	// comune's own network on a caller's behalf). The development stack allows them.
	AllowPrivate bool
}

func webhooksFromEnv() (Webhooks, error) {
	var w Webhooks
	var errs []error
	var err error
	if w.PollEvery, err = time.ParseDuration(env("INCASSO_WEBHOOK_POLL_EVERY", "2s")); err != nil || w.PollEvery < 100*time.Millisecond {
		errs = append(errs, errors.New("INCASSO_WEBHOOK_POLL_EVERY: want a duration of at least 100ms, such as 2s"))
	}
	if w.GiveUpAfter, err = time.ParseDuration(env("INCASSO_WEBHOOK_GIVE_UP_AFTER", "72h")); err != nil || w.GiveUpAfter < time.Minute {
		errs = append(errs, errors.New("INCASSO_WEBHOOK_GIVE_UP_AFTER: want a duration of at least 1m, such as 72h"))
	}
	if w.FirstRetry, err = time.ParseDuration(env("INCASSO_WEBHOOK_FIRST_RETRY", "10s")); err != nil || w.FirstRetry < 10*time.Millisecond || w.FirstRetry > time.Hour {
		errs = append(errs, errors.New("INCASSO_WEBHOOK_FIRST_RETRY: want a duration from 10ms to 1h, such as 10s"))
	}
	if w.SecretGrace, err = time.ParseDuration(env("INCASSO_WEBHOOK_SECRET_GRACE", "24h")); err != nil || w.SecretGrace < 0 {
		errs = append(errs, errors.New("INCASSO_WEBHOOK_SECRET_GRACE: want a duration such as 24h"))
	}
	if w.AllowPrivate, err = strconv.ParseBool(env("INCASSO_WEBHOOK_ALLOW_PRIVATE", "false")); err != nil {
		errs = append(errs, errors.New("INCASSO_WEBHOOK_ALLOW_PRIVATE: want true or false"))
	}
	return w, errors.Join(errs...)
}
