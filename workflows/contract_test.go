package workflows

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestActivityNamesMatchTheContract checks that the Activity... name constants the workflows
// call activities by are exactly the methods of the contract interfaces, which package
// activities implements (checked when it compiles).
func TestActivityNamesMatchTheContract(t *testing.T) {
	t.Parallel()
	var methods []string
	for _, iface := range []reflect.Type{
		reflect.TypeFor[DebtActivities](), reflect.TypeFor[PlanActivities](), reflect.TypeFor[SDDActivities](),
		reflect.TypeFor[CampaignActivities](), reflect.TypeFor[RecoveryActivities](), reflect.TypeFor[HealActivities](), reflect.TypeFor[ArchiveActivities](),
		reflect.TypeFor[FdRActivities](),
	} {
		for i := range iface.NumMethod() {
			require.NotContains(t, methods, iface.Method(i).Name, "an activity name is declared twice")
			methods = append(methods, iface.Method(i).Name)
		}
	}
	names := activityNameConstants(t)
	slices.Sort(methods)
	slices.Sort(names)
	require.Equal(t, methods, names, "every Activity... constant must name a method of a contract interface, and the other way round")
}

// activityNameConstants reads the values of the constants named Activity... in this
// package's source.
func activityNameConstants(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var names []string
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if !strings.HasPrefix(id.Name, "Activity") || i >= len(spec.Values) {
					continue
				}
				lit, ok := spec.Values[i].(*ast.BasicLit)
				require.True(t, ok, "%s is not a string literal", id.Name)
				name, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				names = append(names, name)
			}
			return true
		})
	}
	require.NotEmpty(t, names)
	return names
}
