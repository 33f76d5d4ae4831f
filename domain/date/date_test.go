package date

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAndFormat(t *testing.T) {
	t.Parallel()
	d, err := Parse("2026-02-28")
	require.NoError(t, err)
	require.Equal(t, Date{2026, time.February, 28}, d)
	require.Equal(t, "28/02/2026", d.Italian())
	for _, bad := range []string{"", "2026-02-30", "28/02/2026", "2026-2-28"} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
	b, err := json.Marshal(struct{ D Date }{d})
	require.NoError(t, err)
	require.JSONEq(t, `{"D":"2026-02-28"}`, string(b))
}

func TestEndInRome(t *testing.T) {
	t.Parallel()
	d := Date{2026, time.July, 31}
	end := d.EndIn(Rome)
	require.Equal(t, "2026-07-31T22:00:00Z", end.UTC().Format(time.RFC3339))
	require.Equal(t, d, InRome(end.Add(-time.Second)))
	require.True(t, d.Before(InRome(end)))
}
