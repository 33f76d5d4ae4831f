// Package specs finds the shared pagoPA and SEPA specifications beside the repository
// (../shared/specs) and validates XML documents against their XSDs with xmllint, so tests
// check what incasso produces against the real schemas.
package specs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// ErrNoXmllint is returned when xmllint (Debian package libxml2-utils) is not installed.
var ErrNoXmllint = errors.New("xmllint not found: install libxml2-utils")

// Path returns the path of a file under the shared specs directory, e.g.
// Path("pagopa", "paForNode.xsd"). INCASSO_SPECS overrides where the directory is.
func Path(elem ...string) string {
	dir := os.Getenv("INCASSO_SPECS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "specs")
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}

// Validate checks doc against the XSD at xsdPath and returns xmllint's complaint if any.
func Validate(xsdPath string, doc []byte) error {
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	if _, err := os.Stat(xsdPath); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	cmd := exec.Command(bin, "--noout", "--nonet", "--schema", xsdPath, "-")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s does not validate: %s", filepath.Base(xsdPath), out)
	}
	return nil
}

// RequireValid fails t unless doc validates against the XSD at Path(xsd...). Without
// xmllint it skips t, or fails it when INCASSO_REQUIRE_E2E is set (as `make test` does).
func RequireValid(t testing.TB, doc []byte, xsd ...string) {
	t.Helper()
	err := Validate(Path(xsd...), doc)
	if errors.Is(err, ErrNoXmllint) && os.Getenv("INCASSO_REQUIRE_E2E") == "" {
		t.Skip("xmllint is not installed (Debian libxml2-utils): cannot validate against the XSD")
	}
	if err != nil {
		t.Fatal(err)
	}
}
