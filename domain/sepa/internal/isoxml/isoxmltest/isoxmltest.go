// Package isoxmltest holds what the tests of the ISO 20022 readers and writers (pain008,
// pain002, camt054) share: golden files and a fuzzer. Only tests import it.
package isoxmltest

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// RequireGolden requires got to be the golden file testdata/name, which go test -update
// rewrites with got.
func RequireGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "%s (go test -update rewrites it)", path)
}

// Fuzz fuzzes parse, seeded with the XML files of the package's testdata (the golden file of
// what it writes and a bank's file). What parse accepts must pass check, and write must write
// it so that parse reads it back the same, but for the creation time (created points to it)
// that is written to the second.
func Fuzz[T any](f *testing.F, parse func([]byte) (T, error), write func(io.Writer, T) error,
	created func(*T) *time.Time, check func(*testing.T, T)) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parse(data)
		if err != nil {
			return
		}
		check(t, v)
		var buf bytes.Buffer
		require.NoError(t, write(&buf, v))
		again, err := parse(buf.Bytes())
		require.NoError(t, err)
		at, written := created(&v), created(&again)
		require.True(t, at.Truncate(time.Second).Equal(*written))
		*at = *written
		require.Equal(t, v, again)
	})
}
