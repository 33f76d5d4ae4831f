// Package users keeps the web console's accounts, one per person: a name, a role
// (services/access) and a password stored as argon2id. Repeated wrong passwords lock the
// account for a while; `incasso user` adds and disables accounts.
package users

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/crypto/argon2"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/services/access"
)

// Lockout: after MaxFailures wrong passwords in a row the account refuses every password,
// the right one too, for LockFor.
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	// MinPasswordLength is the shortest password Add accepts.
	MinPasswordLength = 12
)

var (
	// ErrRefused is every failed login: unknown or disabled user, wrong password. It says
	// nothing more, so that names cannot be probed.
	ErrRefused = errors.New("unknown user or wrong password")
	// ErrLocked is a login to an account locked by repeated failures.
	ErrLocked = errors.New("account locked after repeated failures")
	// ErrUnknown is a user that does not exist or is disabled.
	ErrUnknown = errors.New("unknown or disabled user")
)

// The argon2id parameters (RFC 9106's second recommendation, lighter in memory: 64 MiB).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password under a fresh salt.
func Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// matches reports whether password is the one of the PHC string.
func matches(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return false
	}
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, iterations, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Add creates the user with its role and password, or gives an existing one a new password
// and role (enabled and unlocked).
func Add(ctx context.Context, q *dbgen.Queries, name string, role access.Role, password string) error {
	if _, err := access.ParseRole(string(role)); err != nil {
		return err
	}
	if len([]rune(password)) < MinPasswordLength {
		return fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	}
	phc, err := Hash(password)
	if err != nil {
		return err
	}
	return q.UpsertConsoleUser(ctx, dbgen.UpsertConsoleUserParams{Name: name, Role: string(role), PasswordHash: phc})
}

// Disable ends the user's sessions and logins; ErrUnknown when there is no enabled user of
// that name.
func Disable(ctx context.Context, q *dbgen.Queries, name string) error {
	n, err := q.DisableConsoleUser(ctx, name)
	if err != nil {
		return fmt.Errorf("disable user: %w", err)
	} else if n == 0 {
		return ErrUnknown
	}
	return nil
}

// dummy is checked for unknown users, so that they take as long as known ones.
var dummy = sync.OnceValue(func() string { h, _ := Hash("incasso: no such user"); return h })

// Login checks a password at now: the user as a principal and the fingerprint of its
// password and role, or ErrRefused, or ErrLocked. A wrong password counts towards the
// lockout; the right one resets the count.
func Login(ctx context.Context, q *dbgen.Queries, name, password string, now time.Time) (access.Principal, []byte, error) {
	u, err := q.GetConsoleUser(ctx, name)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		matches(dummy(), password)
		return access.Principal{}, nil, ErrRefused
	} else if err != nil {
		return access.Principal{}, nil, err
	}
	if u.LockedUntil.Valid && now.Before(u.LockedUntil.Time) {
		return access.Principal{}, nil, ErrLocked
	}
	if !matches(u.PasswordHash, password) {
		r, err := q.RecordConsoleLoginFailure(ctx, dbgen.RecordConsoleLoginFailureParams{
			ID: u.ID, MaxFailures: MaxFailures, LockedUntil: pgtype.Timestamptz{Time: now.Add(LockFor), Valid: true},
		})
		if err != nil {
			return access.Principal{}, nil, fmt.Errorf("record login failure: %w", err)
		}
		if r.LockedUntil.Valid && now.Before(r.LockedUntil.Time) {
			return access.Principal{}, nil, ErrLocked
		}
		return access.Principal{}, nil, ErrRefused
	}
	if err := q.ResetConsoleLoginFailures(ctx, u.ID); err != nil {
		return access.Principal{}, nil, fmt.Errorf("reset login failures: %w", err)
	}
	return principal(u), fingerprintOf(u), nil
}

// ByName returns the enabled user and the fingerprint of its password and role (which
// changes when either does); ErrUnknown when there is none.
func ByName(ctx context.Context, q *dbgen.Queries, name string) (access.Principal, []byte, error) {
	u, err := q.GetConsoleUser(ctx, name)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return access.Principal{}, nil, ErrUnknown
	} else if err != nil {
		return access.Principal{}, nil, err
	}
	return principal(u), fingerprintOf(u), nil
}

func principal(u dbgen.ConsoleUser) access.Principal {
	return access.Principal{Kind: access.KindUser, Name: u.Name, Role: access.Role(u.Role)}
}

func fingerprintOf(u dbgen.ConsoleUser) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "incasso user fingerprint\x00%s\x00%s", u.PasswordHash, u.Role)
	sum := sha256.Sum256(b.Bytes())
	return sum[:8]
}
