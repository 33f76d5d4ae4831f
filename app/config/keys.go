package config

import (
	"errors"
	"fmt"
	"os"

	"incasso/domain/keyring"
)

// ringFromEnv reads the keyring of keysVar ("id:base64,...", the newest first) and the
// switch switchVar ("on", the default, or "off": no encryption, and then no keys).
func ringFromEnv(keysVar, switchVar string) (ring *keyring.Ring, off bool, err error) {
	switch v := env(switchVar, "on"); v {
	case "on", "off":
		off = v == "off"
	default:
		return nil, false, fmt.Errorf("%s: want on or off", switchVar)
	}
	v := os.Getenv(keysVar)
	switch {
	case v == "":
		return nil, off, nil
	case off:
		return nil, off, fmt.Errorf("%s: is off, but %s is set", switchVar, keysVar)
	}
	if ring, err = keyring.Parse(v); err != nil {
		return nil, off, fmt.Errorf("%s: %w", keysVar, err)
	}
	return ring, off, nil
}

// requireRing is CheckProduction's rule for a keyring: present, unless explicitly off.
func requireRing(ring *keyring.Ring, off bool, keysVar, switchVar, what string) error {
	if ring == nil && !off {
		return errors.New(keysVar + ": required, to encrypt " + what + " (or " + switchVar + "=off for no encryption)")
	}
	return nil
}
