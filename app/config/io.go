package config

import (
	"fmt"
	"os"
	"strings"
)

// DevIOKey is the App IO key of the development stack's services, which its IO simulator
// knows. Everyone who has read this file knows it.
const DevIOKey = "dev-io-key"

// IO is App IO: where its services API is, and as which IO service each incasso service
// sends. An incasso service with a key is enabled for IO: its notices, reminders and receipts
// go to the citizen's IO profile when there is one that takes the service's messages.
type IO struct {
	URL string // INCASSO_IO_URL, e.g. https://api.io.pagopa.it/api/v1
	// Keys are the API keys of the IO services, by incasso service code (INCASSO_IO_KEYS,
	// "TARI=key,MENSA=key"): secrets, from the IO back office.
	Keys map[string]string
}

// ioFromEnv reads INCASSO_IO_URL and INCASSO_IO_KEYS; every service of the keys must be one
// of services. Errors name the variable and the service, never a key.
func ioFromEnv(services Services) (IO, error) {
	c := IO{URL: env("INCASSO_IO_URL", "http://127.0.0.1:8090/io/api/v1"), Keys: map[string]string{}}
	list := strings.TrimSpace(os.Getenv("INCASSO_IO_KEYS"))
	if list == "" {
		return c, nil
	}
	for i, pair := range strings.Split(list, ",") {
		service, key, ok := strings.Cut(strings.TrimSpace(pair), "=")
		switch {
		case !ok || service == "" || strings.TrimSpace(key) == "":
			return c, fmt.Errorf("INCASSO_IO_KEYS: entry %d is not SERVICE=key", i+1)
		case c.Keys[service] != "":
			return c, fmt.Errorf("INCASSO_IO_KEYS: service %s is listed twice", service)
		}
		if _, known := services.Find(service); !known {
			return c, fmt.Errorf("INCASSO_IO_KEYS: service %s is not one of the configured services", service)
		}
		c.Keys[service] = strings.TrimSpace(key)
	}
	return c, nil
}

// checkKeys refuses a development key outside the development stack.
func (c IO) checkKeys() []error {
	var errs []error
	for service, key := range c.Keys {
		if key == DevIOKey || knownSecrets[key] {
			errs = append(errs, fmt.Errorf("INCASSO_IO_KEYS: the key of service %s is a development secret or placeholder: set the real one", service))
		}
	}
	return errs
}
