package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// TemporalTLS is how the Temporal client secures its connection to the frontend.
type TemporalTLS struct {
	// Enabled is INCASSO_TEMPORAL_TLS; unset, TLS is on as soon as a file or an API key is
	// given, and off otherwise (the dev server speaks plain gRPC).
	Enabled bool
	// CAFile is the PEM bundle of the authorities trusted for the server's certificate
	// (INCASSO_TEMPORAL_TLS_CA); empty means the system's.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key for mTLS
	// (INCASSO_TEMPORAL_TLS_CERT, INCASSO_TEMPORAL_TLS_KEY), both or neither.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must carry
	// (INCASSO_TEMPORAL_TLS_SERVER_NAME); empty means the host of INCASSO_TEMPORAL_ADDRESS.
	ServerName string
}

// WorkerTuning sizes the worker. Zero values are not used: FromEnv fills in the defaults.
type WorkerTuning struct {
	WorkflowPollers  int // INCASSO_WORKER_WORKFLOW_POLLERS, at least 2
	ActivityPollers  int // INCASSO_WORKER_ACTIVITY_POLLERS
	MaxWorkflowTasks int // INCASSO_WORKER_MAX_WORKFLOW_TASKS: workflow tasks run at once, at least 2
	MaxActivities    int // INCASSO_WORKER_MAX_ACTIVITIES: activities run at once by this worker
	// ActivitiesPerSecond caps the activities this worker starts per second
	// (INCASSO_WORKER_ACTIVITIES_PER_SECOND); TaskQueueActivitiesPerSecond caps those of every
	// worker of the task queue together, enforced by the server
	// (INCASSO_TASK_QUEUE_ACTIVITIES_PER_SECOND). Zero means no cap.
	ActivitiesPerSecond          float64
	TaskQueueActivitiesPerSecond float64
}

// temporalFromEnv reads the Temporal client's security and the worker's tuning into c.
func (c *Config) temporalFromEnv() error {
	t := TemporalTLS{
		CAFile:     os.Getenv("INCASSO_TEMPORAL_TLS_CA"),
		CertFile:   os.Getenv("INCASSO_TEMPORAL_TLS_CERT"),
		KeyFile:    os.Getenv("INCASSO_TEMPORAL_TLS_KEY"),
		ServerName: os.Getenv("INCASSO_TEMPORAL_TLS_SERVER_NAME"),
	}
	c.TemporalAPIKey = os.Getenv("INCASSO_TEMPORAL_API_KEY")
	var errs []error
	implied := t.CAFile != "" || t.CertFile != "" || t.ServerName != "" || c.TemporalAPIKey != ""
	t.Enabled = implied
	if v := os.Getenv("INCASSO_TEMPORAL_TLS"); v != "" {
		on, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			errs = append(errs, errors.New("INCASSO_TEMPORAL_TLS: want true or false"))
		case !on && implied:
			errs = append(errs, errors.New("INCASSO_TEMPORAL_TLS: is false, but INCASSO_TEMPORAL_TLS_* or INCASSO_TEMPORAL_API_KEY need TLS"))
		default:
			t.Enabled = on
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("INCASSO_TEMPORAL_TLS_CERT and INCASSO_TEMPORAL_TLS_KEY: set both for mTLS, or neither"))
	}
	c.TemporalTLS = t

	var err error
	if c.PayloadKeys, c.PayloadEncryptionOff, err = ringFromEnv("INCASSO_PAYLOAD_KEYS", "INCASSO_PAYLOAD_ENCRYPTION"); err != nil {
		errs = append(errs, err)
	}
	for _, o := range strings.Split(os.Getenv("INCASSO_CODEC_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Errorf("INCASSO_CODEC_ORIGINS: %q is not an origin such as https://temporal.example.it", o))
			continue
		}
		c.CodecOrigins = append(c.CodecOrigins, o)
	}

	w := &c.Worker
	for _, n := range []struct {
		variable string
		def, min int
		to       *int
	}{
		// The SDK's defaults: fewer slots queue a campaign's next batch behind the notices of
		// the last one (the task queue is one), and slow the launch down.
		{"INCASSO_WORKER_WORKFLOW_POLLERS", 2, 2, &w.WorkflowPollers},
		{"INCASSO_WORKER_ACTIVITY_POLLERS", 2, 1, &w.ActivityPollers},
		{"INCASSO_WORKER_MAX_WORKFLOW_TASKS", 1000, 2, &w.MaxWorkflowTasks},
		{"INCASSO_WORKER_MAX_ACTIVITIES", 1000, 1, &w.MaxActivities},
	} {
		v, err := strconv.Atoi(env(n.variable, strconv.Itoa(n.def)))
		if err != nil || v < n.min || v > 10_000 {
			errs = append(errs, fmt.Errorf("%s: want a whole number from %d to 10000", n.variable, n.min))
		}
		*n.to = v
	}
	for _, r := range []struct {
		variable string
		to       *float64
	}{
		{"INCASSO_WORKER_ACTIVITIES_PER_SECOND", &w.ActivitiesPerSecond},
		{"INCASSO_TASK_QUEUE_ACTIVITIES_PER_SECOND", &w.TaskQueueActivitiesPerSecond},
	} {
		v, err := strconv.ParseFloat(env(r.variable, "0"), 64)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("%s: want a number of activities per second such as 50 or 0.5, or 0 for no cap", r.variable))
		}
		*r.to = v
	}
	return errors.Join(errs...)
}
