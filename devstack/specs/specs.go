// Package specs holds the official pagoPA, SEPA and citizen-channel (App IO) specifications incasso is built against
// (see README.md for each file's source and version), embedded, and validates XML documents
// against their XSDs with xmllint, so that tests and the bank simulator check what incasso
// writes against the real schemas. Nothing here reads a path outside the repository.
package specs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

//go:embed pagopa sepa citizen
var files embed.FS

// ErrNoXmllint is returned when xmllint (Debian package libxml2-utils) is not installed.
var ErrNoXmllint = errors.New("xmllint not found: install libxml2-utils (Debian) to validate XML against the XSDs")

// Read returns a specification file, e.g. Read("pagopa", "gpd-debt-positions-v1.json").
func Read(elem ...string) ([]byte, error) {
	return files.ReadFile(path.Join(elem...))
}

// CheckValidator returns ErrNoXmllint when documents cannot be validated on this machine.
func CheckValidator() error {
	if _, err := exec.LookPath("xmllint"); err != nil {
		return ErrNoXmllint
	}
	return nil
}

// Validate checks doc against the XSD named by xsd (e.g. "sepa", "pain.008.001.08.xsd") and
// returns xmllint's complaint if any.
func Validate(doc []byte, xsd ...string) error {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	schema, err := SchemaFile(xsd...)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--noout", "--nonet", "--schema", schema, "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s does not validate: %s", filepath.Base(schema), out)
	}
	return nil
}

// SchemaFile returns the path of an XSD written on disk for a validator to read (xmllint
// resolves a schema's imports by path), e.g. SchemaFile("sepa", "pain.008.001.08.xsd").
func SchemaFile(xsd ...string) (string, error) {
	name := path.Join(xsd...)
	if _, err := fs.Stat(files, name); err != nil {
		return "", fmt.Errorf("schema %s: %w", name, err)
	}
	dir, err := onDisk()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, filepath.FromSlash(name)), nil
}

// RequireValid fails t unless doc validates against the XSD named by xsd. Without xmllint it
// skips t, saying why, or fails it when INCASSO_REQUIRE_E2E is set (as `make test` does).
func RequireValid(t testing.TB, doc []byte, xsd ...string) {
	t.Helper()
	err := Validate(doc, xsd...)
	if errors.Is(err, ErrNoXmllint) && os.Getenv("INCASSO_REQUIRE_E2E") == "" {
		t.Skip("cannot validate against the XSD: ", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var (
	diskOnce sync.Once
	diskDir  string
	diskErr  error
)

// onDisk writes the embedded files once under the temporary directory, in a folder named by
// their hash that every process shares, since xmllint resolves a schema's imports by path.
func onDisk() (string, error) {
	diskOnce.Do(func() { diskDir, diskErr = writeOnce() })
	return diskDir, diskErr
}

func writeOnce() (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(name)
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
		names = append(names, name)
		return err
	})
	if err != nil {
		return "", err
	}
	dir := filepath.Join(os.TempDir(), "incasso-specs-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "incasso-specs-tmp-")
	if err != nil {
		return "", fmt.Errorf("write the schemas for xmllint: %w", err)
	}
	for _, name := range names {
		data, _ := files.ReadFile(name)
		target := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return "", fmt.Errorf("write the schemas for xmllint: %w", err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	// Another process may have won the race: its copy has the same content.
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		if _, statErr := os.Stat(dir); statErr != nil {
			return "", fmt.Errorf("write the schemas for xmllint: %w", err)
		}
	}
	return dir, nil
}
