// Package apiclients keeps the API keys of the systems and people that call incasso: a key is
// random, shown once, and stored only as its SHA-256, with the client's role and service
// scope (services/access). A key can be rotated (the old one stays valid for a grace period)
// and disabled. The REST API and the web console both authenticate through it; `incasso
// apikey` manages keys.
package apiclients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/access"
)

// ErrUnknown is returned for an API key or client that does not exist or is disabled.
var ErrUnknown = errors.New("unknown or disabled API client")

// HashKey is how API keys are stored: SHA-256 of the key (keys are random, 256 bits).
func HashKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// NewKey returns a fresh random API key.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "ik_" + hex.EncodeToString(b), nil
}

// Grant is what a key may do: a role and, for an integration key, its scope.
type Grant struct {
	Role access.Role
	// Services limits an integration key to these service codes; empty: every service.
	Services []string
	// AllDebts lets an integration key read the debts of its services it did not create.
	AllDebts bool
}

// Ensure stores the hash of key for the client name with its grant, replacing an earlier key
// (which stops working at once) and grant.
func Ensure(ctx context.Context, q *dbgen.Queries, name, key string, g Grant) error {
	if _, err := access.ParseRole(string(g.Role)); err != nil {
		return err
	}
	services := slices.Clone(g.Services)
	if services == nil {
		services = []string{}
	}
	slices.Sort(services)
	return q.UpsertAPIClient(ctx, dbgen.UpsertAPIClientParams{
		Name: name, KeySha256: HashKey(key), Role: string(g.Role), Services: services, AllDebts: g.AllDebts,
	})
}

// ByKey returns the enabled client whose API key is key at now (its current key, or the one
// before a rotation during the grace period), and the fingerprint of its grant and current
// key (which changes when either does); ErrUnknown when there is none.
func ByKey(ctx context.Context, q *dbgen.Queries, key string, now time.Time) (p access.Principal, fingerprint []byte, err error) {
	c, err := q.GetAPIClientByKeyHash(ctx, dbgen.GetAPIClientByKeyHashParams{
		KeySha256: HashKey(key), Now: pgtype.Timestamptz{Time: now, Valid: true},
	})
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return p, nil, ErrUnknown
	} else if err != nil {
		return p, nil, err
	}
	return principal(c.Name, c.Role, c.Services, c.AllDebts), fingerprintOf(c.KeySha256, c.Role, c.Services, c.AllDebts), nil
}

// ByName returns the enabled client called name and the fingerprint of its grant and current
// key; ErrUnknown when there is no such client.
func ByName(ctx context.Context, q *dbgen.Queries, name string) (access.Principal, []byte, error) {
	c, err := q.GetAPIClientByName(ctx, name)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return access.Principal{}, nil, ErrUnknown
	} else if err != nil {
		return access.Principal{}, nil, err
	}
	return principal(c.Name, c.Role, c.Services, c.AllDebts), fingerprintOf(c.KeySha256, c.Role, c.Services, c.AllDebts), nil
}

func principal(name, role string, services []string, allDebts bool) access.Principal {
	return access.Principal{Kind: access.KindClient, Name: name, Role: access.Role(role), Services: services, AllDebts: allDebts}
}

// fingerprintOf identifies a key and its grant without revealing the key's hash: 8 bytes of
// a hash over them.
func fingerprintOf(keyHash []byte, role string, services []string, allDebts bool) []byte {
	h := sha256.New()
	fmt.Fprintf(h, "incasso console fingerprint\x00%x\x00%s\x00%s\x00%t", keyHash, role, strings.Join(services, ","), allDebts)
	return h.Sum(nil)[:8]
}

// Rotate gives the client a new key; the current one stays valid for grace. A key rotated
// before and still in its grace period stops working at once.
func Rotate(ctx context.Context, q *dbgen.Queries, name, key string, now time.Time, grace time.Duration) error {
	n, err := q.RotateAPIClientKey(ctx, dbgen.RotateAPIClientKeyParams{
		Name: name, KeySha256: HashKey(key), ValidUntil: pgtype.Timestamptz{Time: now.Add(grace), Valid: true},
	})
	if err != nil {
		return fmt.Errorf("rotate API key: %w", err)
	} else if n == 0 {
		return ErrUnknown
	}
	return nil
}

// Disable stops every key of the client at once, on every instance; disabling a disabled
// client changes nothing. ErrUnknown when there is no enabled client of that name.
func Disable(ctx context.Context, q *dbgen.Queries, name string) error {
	n, err := q.DisableAPIClient(ctx, name)
	if err != nil {
		return fmt.Errorf("disable API client: %w", err)
	} else if n == 0 {
		return ErrUnknown
	}
	return nil
}
