package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTemporalFromEnvDefaults(t *testing.T) {
	clearEnv(t)
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, TemporalTLS{}, c.TemporalTLS, "the dev server speaks plain gRPC")
	require.Empty(t, c.TemporalAPIKey)
	require.Equal(t, WorkerTuning{WorkflowPollers: 2, ActivityPollers: 2, MaxWorkflowTasks: 1000, MaxActivities: 1000}, c.Worker, "the SDK's defaults")
}

func TestTemporalFromEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("INCASSO_TEMPORAL_TLS_CA", "/etc/incasso/temporal-ca.pem")
	t.Setenv("INCASSO_TEMPORAL_TLS_CERT", "/etc/incasso/worker.pem")
	t.Setenv("INCASSO_TEMPORAL_TLS_KEY", "/etc/incasso/worker-key.pem")
	t.Setenv("INCASSO_TEMPORAL_TLS_SERVER_NAME", "frontend.temporal.internal")
	t.Setenv("INCASSO_WORKER_WORKFLOW_POLLERS", "4")
	t.Setenv("INCASSO_WORKER_ACTIVITY_POLLERS", "8")
	t.Setenv("INCASSO_WORKER_MAX_WORKFLOW_TASKS", "50")
	t.Setenv("INCASSO_WORKER_MAX_ACTIVITIES", "20")
	t.Setenv("INCASSO_WORKER_ACTIVITIES_PER_SECOND", "12.5")
	t.Setenv("INCASSO_TASK_QUEUE_ACTIVITIES_PER_SECOND", "0.5")
	c, err := FromEnv()
	require.NoError(t, err)
	require.Equal(t, TemporalTLS{
		Enabled: true, CAFile: "/etc/incasso/temporal-ca.pem", CertFile: "/etc/incasso/worker.pem",
		KeyFile: "/etc/incasso/worker-key.pem", ServerName: "frontend.temporal.internal",
	}, c.TemporalTLS, "the files imply TLS")
	require.Equal(t, WorkerTuning{
		WorkflowPollers: 4, ActivityPollers: 8, MaxWorkflowTasks: 50, MaxActivities: 20,
		ActivitiesPerSecond: 12.5, TaskQueueActivitiesPerSecond: 0.5,
	}, c.Worker)

	clearEnv(t)
	t.Setenv("INCASSO_TEMPORAL_API_KEY", "eyJhbGciOi.temporal-cloud-key")
	t.Setenv("INCASSO_TEMPORAL_NAMESPACE", "incasso.a1b2c")
	c, err = FromEnv()
	require.NoError(t, err)
	require.True(t, c.TemporalTLS.Enabled, "an API key goes over TLS only")
	require.Equal(t, "eyJhbGciOi.temporal-cloud-key", c.TemporalAPIKey)
	require.Equal(t, "incasso.a1b2c", c.TemporalNamespace)

	clearEnv(t)
	t.Setenv("INCASSO_TEMPORAL_TLS", "true")
	c, err = FromEnv()
	require.NoError(t, err)
	require.Equal(t, TemporalTLS{Enabled: true}, c.TemporalTLS, "TLS with the system's authorities")
}

func TestTemporalFromEnvInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"TLS neither true nor false", map[string]string{"INCASSO_TEMPORAL_TLS": "yes please"}, "INCASSO_TEMPORAL_TLS: want true or false"},
		{"TLS off with a CA", map[string]string{"INCASSO_TEMPORAL_TLS": "false", "INCASSO_TEMPORAL_TLS_CA": "/ca.pem"}, "INCASSO_TEMPORAL_TLS: is false"},
		{"TLS off with an API key", map[string]string{"INCASSO_TEMPORAL_TLS": "false", "INCASSO_TEMPORAL_API_KEY": "k"}, "INCASSO_TEMPORAL_TLS: is false"},
		{"cert without key", map[string]string{"INCASSO_TEMPORAL_TLS_CERT": "/c.pem"}, "INCASSO_TEMPORAL_TLS_CERT and INCASSO_TEMPORAL_TLS_KEY: set both"},
		{"key without cert", map[string]string{"INCASSO_TEMPORAL_TLS_KEY": "/k.pem"}, "INCASSO_TEMPORAL_TLS_CERT and INCASSO_TEMPORAL_TLS_KEY: set both"},
		{"one workflow poller", map[string]string{"INCASSO_WORKER_WORKFLOW_POLLERS": "1"}, "INCASSO_WORKER_WORKFLOW_POLLERS: want a whole number from 2"},
		{"no activity poller", map[string]string{"INCASSO_WORKER_ACTIVITY_POLLERS": "0"}, "INCASSO_WORKER_ACTIVITY_POLLERS: want a whole number from 1"},
		{"workflow tasks not a number", map[string]string{"INCASSO_WORKER_MAX_WORKFLOW_TASKS": "many"}, "INCASSO_WORKER_MAX_WORKFLOW_TASKS: want"},
		{"too many activities", map[string]string{"INCASSO_WORKER_MAX_ACTIVITIES": "100000"}, "INCASSO_WORKER_MAX_ACTIVITIES: want"},
		{"negative rate", map[string]string{"INCASSO_TASK_QUEUE_ACTIVITIES_PER_SECOND": "-1"}, "INCASSO_TASK_QUEUE_ACTIVITIES_PER_SECOND: want"},
		{"rate not a number", map[string]string{"INCASSO_WORKER_ACTIVITIES_PER_SECOND": "fast"}, "INCASSO_WORKER_ACTIVITIES_PER_SECOND: want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := FromEnv()
			require.ErrorContains(t, err, tc.want)
		})
	}
}
