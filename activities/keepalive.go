package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// keepAlive heartbeats the running activity every third of its heartbeat timeout until stop
// is called: an activity with no progress to record still tells Temporal that its worker is
// alive, so that a worker killed mid-activity (SIGKILL, OOM, a lost machine) has its activity
// retried elsewhere after the heartbeat timeout, not after the whole start-to-close timeout.
// It does nothing outside an activity or without a heartbeat timeout.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	return heartbeatEvery(ctx, activity.GetInfo(ctx).HeartbeatTimeout/3)
}

// heartbeatEvery records a heartbeat (without details) every interval until stop is called.
func heartbeatEvery(ctx context.Context, interval time.Duration) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
