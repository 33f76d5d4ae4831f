package pagopa

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNAVRealSample(t *testing.T) {
	t.Parallel()
	n, err := ParseNAV("322201151398574181")
	require.NoError(t, err)
	require.Equal(t, NAV{Segregation: 22, Base: 2011513985741}, n)
	require.Equal(t, "322201151398574181", n.String())
	require.Equal(t, "22201151398574181", n.IUV())
}

func TestNAVCheckDigits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		seg  int
		base int64
		want string
	}{
		{22, 2011513985741, "322201151398574181"}, // the real sample
		{0, 0, "300000000000000003"},              // 3e15 mod 93 = 3
		{99, MaxIUVBase, "399999999999999903"},    // 3999999999999999 mod 93 = 3
	} {
		n, err := NewNAV(tc.seg, tc.base)
		require.NoError(t, err)
		require.Equal(t, tc.want, n.String())
		back, err := ParseNAV(n.String())
		require.NoError(t, err)
		require.Equal(t, n, back)
	}
}

func TestParseNAVRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "32220115139857418", "3222011513985741811", "322201151398574182", "222201151398574181", "32220115139857418a"} {
		_, err := ParseNAV(bad)
		require.ErrorIs(t, err, ErrInvalidNAV, bad)
	}
	_, err := NewNAV(100, 1)
	require.ErrorIs(t, err, ErrInvalidNAV)
	_, err = NewNAV(1, MaxIUVBase+1)
	require.ErrorIs(t, err, ErrInvalidNAV)
}

// FuzzNAVRoundTrip checks that every segregation code and IUV base survive formatting and
// parsing, and that whatever ParseNAV accepts formats back to the same string.
func FuzzNAVRoundTrip(f *testing.F) {
	f.Add(22, int64(2011513985741), "322201151398574181")
	f.Add(0, int64(0), "300000000000000003")
	f.Add(99, int64(MaxIUVBase), "399999999999999903")
	f.Add(-1, int64(-1), "322201151398574182")
	f.Add(100, int64(MaxIUVBase+1), "+22201151398574181")
	f.Fuzz(func(t *testing.T, seg int, base int64, s string) {
		seg = (seg%100 + 100) % 100
		base = (base%(MaxIUVBase+1) + MaxIUVBase + 1) % (MaxIUVBase + 1)
		n, err := NewNAV(seg, base)
		require.NoError(t, err)
		back, err := ParseNAV(n.String())
		require.NoError(t, err)
		require.Equal(t, NAV{Segregation: seg, Base: base}, back)

		parsed, err := ParseNAV(s)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidNAV)
			return
		}
		require.Equal(t, s, parsed.String())
	})
}
