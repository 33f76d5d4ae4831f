package campaigns

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lazyCSV produces a campaign file of n valid rows as it is read, never holding more than a
// few rows.
type lazyCSV struct {
	n, i int
	buf  bytes.Buffer
	w    sampleWriter
}

func newLazyCSV(n int) *lazyCSV {
	l := &lazyCSV{n: n}
	l.w = newSampleWriter(&l.buf)
	return l
}

func (l *lazyCSV) Read(p []byte) (int, error) {
	for l.buf.Len() < len(p) && l.i < l.n {
		l.w.row(l.i)
		l.i++
		l.w.Flush()
	}
	l.w.Flush()
	return l.buf.Read(p)
}

// TestImport100kRowsMemory imports the largest file allowed, generated on the fly, and checks
// that the heap stays small: the rows are streamed from the reader to COPY.
func TestImport100kRowsMemory(t *testing.T) {
	pool, cfg := newTestDB(t)

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})

	start := time.Now()
	res, err := Import(context.Background(), pool, cfg, newLazyCSV(MaxRows), FormatCSV, Options{Name: "100k", Today: testToday})
	took := time.Since(start)
	close(done)
	wg.Wait()
	require.NoError(t, err, "%+v", res.Errors)
	require.Equal(t, MaxRows, res.Valid)
	require.Equal(t, MaxRows, countRows(t, pool, res.CampaignID))

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	const mb = 1 << 20
	t.Logf("100,000 rows imported in %v (%.0f rows/s); heap in use %d MB before, peak %d MB; %d MB allocated in all",
		took.Round(time.Millisecond), MaxRows/took.Seconds(), before.HeapInuse/mb, peak/mb, (after.TotalAlloc-before.TotalAlloc)/mb)
	require.Less(t, peak, uint64(100*mb), "peak heap in use")
}
