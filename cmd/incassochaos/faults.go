package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"incasso/devstack/pagopasim"
)

// fault is one thing done to the stack, and when it began and ended.
type fault struct {
	what       string
	start, end time.Time
	err        error
}

// scenario is the storm: the faults in order, each after a pause from the previous one's end.
func scenario(st *stack, s settings) []step {
	kill := func(i int) step {
		w := st.workers[i%len(st.workers)]
		return step{pause: s.faultGap, what: "SIGKILL " + w.name + ", restarted 2 s later", do: func(ctx context.Context) error {
			if err := w.kill(); err != nil {
				return err
			}
			if err := sleep(ctx, 2*time.Second); err != nil {
				return err
			}
			return w.start()
		}}
	}
	if s.scale {
		return []step{kill(0)}
	}
	return []step{
		kill(0),
		{pause: s.faultGap, what: "GPD answers 503 for 30 s", do: func(ctx context.Context) error {
			if err := st.pagopa.InjectFaults(pagopasim.Faults{Count: 1 << 30, Status: 503}); err != nil {
				return err
			}
			defer st.pagopa.ClearFaults()
			return sleep(ctx, 30*time.Second)
		}},
		kill(1),
		{pause: s.faultGap, what: "PostgreSQL restarted (pg_ctl stop -m fast, start)", do: st.restartPostgres},
		kill(0),
		{pause: s.faultGap, what: "SMTP sink drops every connection for 30 s", do: func(ctx context.Context) error {
			st.sink.DropConnections(30 * time.Second)
			return sleep(ctx, 30*time.Second)
		}},
		kill(1),
		kill(0),
	}
}

// step is a fault to make, pause after the previous one.
type step struct {
	pause time.Duration
	what  string
	do    func(context.Context) error
}

// storm runs the steps in order and returns the faults made; it stops early when ctx ends.
func storm(ctx context.Context, steps []step) []fault {
	var out []fault
	for _, s := range steps {
		if sleep(ctx, s.pause) != nil {
			return out
		}
		f := fault{what: s.what, start: time.Now()}
		f.err = s.do(ctx)
		f.end = time.Now()
		out = append(out, f)
		fmt.Printf("  fault  %-52s %5.1f s  %s\n", s.what, f.end.Sub(f.start).Seconds(), errText(f.err))
	}
	return out
}

func errText(err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// sample is the progress seen at a moment: notices issued (the campaign's debts past CREATED).
type sample struct {
	at     time.Time
	issued int
}

// sampler records the progress every 250 ms, failed reads (PostgreSQL down) skipped.
type sampler struct {
	mu      sync.Mutex
	samples []sample
}

func (sm *sampler) run(ctx context.Context, read func(context.Context) (sample, error)) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := read(rctx)
		cancel()
		if err == nil {
			sm.mu.Lock()
			sm.samples = append(sm.samples, s)
			sm.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (sm *sampler) snapshot() []sample {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return append([]sample(nil), sm.samples...)
}

// at returns the last sample taken at or before t (the first one when none is).
func at(samples []sample, t time.Time) sample {
	best := samples[0]
	for _, s := range samples {
		if s.at.After(t) {
			break
		}
		best = s
	}
	return best
}

// recovery says how the issuing of notices went through a fault: the rate in the 10 s before
// it, during it, and how long after its end the rate was back to half the one before (over 5 s).
type recovery struct {
	before, during float64 // notices/s
	after          time.Duration
	recovered      bool
	noWork         bool // every debt was issued before the fault ended: nothing to recover
}

func measure(samples []sample, f fault, total int) recovery {
	rate := func(from, to time.Time) float64 {
		a, b := at(samples, from), at(samples, to)
		if !b.at.After(a.at) {
			return 0
		}
		return float64(b.issued-a.issued) / b.at.Sub(a.at).Seconds()
	}
	r := recovery{before: rate(f.start.Add(-10*time.Second), f.start), during: rate(f.start, f.end)}
	if at(samples, f.end).issued >= total {
		r.noWork = true
		return r
	}
	last := samples[len(samples)-1].at
	for t := f.end; !t.Add(5 * time.Second).After(last); t = t.Add(250 * time.Millisecond) {
		if got := rate(t, t.Add(5*time.Second)); at(samples, t).issued >= total || (got > 0 && got >= r.before/2) {
			r.after, r.recovered = t.Sub(f.end), true
			return r
		}
	}
	return r
}
