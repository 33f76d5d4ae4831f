package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"incasso/app/config"
	"incasso/app/metrics"
)

// kinds are the Kubernetes objects the manifests may hold, decoded strictly: a field the API
// does not know, or a value of the wrong type, fails the test as kubectl would refuse it.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"batch/v1/Job":                           func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
}

// manifests are the Kubernetes objects of kubernetes/*.yaml but the Helm values, by kind.
func manifests(t *testing.T) map[string][]any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	out := map[string][]any{}
	for _, file := range files {
		if filepath.Base(file) == "temporal-values.yaml" {
			continue
		}
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var head struct{ APIVersion, Kind string }
			require.NoError(t, yaml.Unmarshal(doc, &head), "%s, document %d", file, i+1)
			key := head.APIVersion + "/" + head.Kind
			newObj, ok := kinds[key]
			require.True(t, ok, "%s, document %d: kind %q is not one the test knows", file, i+1, key)
			obj := newObj()
			require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s, document %d (%s)", file, i+1, key)
			out[head.Kind] = append(out[head.Kind], obj)
		}
	}
	return out
}

func TestKubernetesManifests(t *testing.T) {
	objs := manifests(t)
	require.Len(t, objs["Deployment"], 2)
	for _, o := range objs["Deployment"] {
		d := o.(*appsv1.Deployment)
		for k, v := range d.Spec.Selector.MatchLabels {
			require.Equal(t, v, d.Spec.Template.Labels[k], "%s: the selector selects its pods", d.Name)
		}
		require.NotNil(t, d.Spec.Template.Spec.SecurityContext.RunAsNonRoot)
		c := d.Spec.Template.Spec.Containers[0]
		require.False(t, c.Resources.Requests.Cpu().IsZero(), "%s: CPU request", d.Name)
		require.False(t, c.Resources.Requests.Memory().IsZero(), "%s: memory request", d.Name)
		require.False(t, c.Resources.Limits.Memory().IsZero(), "%s: memory limit", d.Name)
		secret := slices.IndexFunc(c.EnvFrom, func(e corev1.EnvFromSource) bool { return e.SecretRef != nil && e.SecretRef.Name == "incasso-secrets" })
		require.GreaterOrEqual(t, secret, 0, "%s: secrets come from the Secret, not the manifest", d.Name)
		for _, e := range c.Env {
			require.NotContains(t, config.SecretVariables(), e.Name, "%s: %s belongs in the Secret", d.Name, e.Name)
		}
		require.NotNil(t, c.LivenessProbe, "%s: liveness probe", d.Name)
		require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, "%s", d.Name)
		switch d.Name {
		case "incasso-api":
			require.Equal(t, []string{"api"}, c.Args)
			require.NotNil(t, c.ReadinessProbe)
			require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
		case "incasso-worker":
			require.Equal(t, []string{"worker"}, c.Args)
		default:
			t.Fatalf("unexpected deployment %s", d.Name)
		}
	}
	require.Len(t, objs["HorizontalPodAutoscaler"], 1)
	hpa := objs["HorizontalPodAutoscaler"][0].(*autoscalingv2.HorizontalPodAutoscaler)
	require.Equal(t, "incasso-worker", hpa.Spec.ScaleTargetRef.Name)
	require.Equal(t, "temporal_approximate_backlog_count", hpa.Spec.Metrics[0].External.Metric.Name, "workers scale on the task queue's backlog")

	// The ConfigMaps are a configuration incasso accepts.
	env := map[string]string{}
	for _, o := range objs["ConfigMap"] {
		cm := o.(*corev1.ConfigMap)
		switch cm.Name {
		case "incasso":
			env = cm.Data
		case "incasso-services":
			dir := t.TempDir()
			file := filepath.Join(dir, "services.json")
			require.NoError(t, os.WriteFile(file, []byte(cm.Data["services.json"]), 0o600))
			services, err := config.ReadServicesFile(file)
			require.NoError(t, err)
			require.NotEmpty(t, services)
		}
	}
	require.NotEmpty(t, env)
	for _, secret := range config.SecretVariables() {
		require.NotContains(t, env, secret, "a secret in the ConfigMap")
	}
}

func TestTemporalHelmValues(t *testing.T) {
	data, err := os.ReadFile("kubernetes/temporal-values.yaml")
	require.NoError(t, err)
	var values map[string]any
	require.NoError(t, yaml.UnmarshalStrict(data, &values))
	for _, section := range []string{"server", "schema", "web", "cassandra", "postgresql", "elasticsearch"} {
		require.Contains(t, values, section)
	}
	// The bundled databases are off: the cluster uses the comune's PostgreSQL.
	for _, bundled := range []string{"cassandra", "mysql", "postgresql", "elasticsearch"} {
		require.Equal(t, false, values[bundled].(map[string]any)["enabled"], bundled)
	}
}

func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"compose/compose.yaml"},
		cli.WithEnv([]string{"INCASSO_DB_PASSWORD=test-password", "GRAFANA_ADMIN_PASSWORD=test-password"}),
		cli.WithResolvedPaths(true), cli.WithName("incasso"))
	require.NoError(t, err)
	// env_file incasso.env is the operator's copy of the example: the example stands in for it.
	example, err := os.ReadFile("incasso.env.example")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("compose/incasso.env", example, 0o600))
	t.Cleanup(func() { os.Remove("compose/incasso.env") })
	project, err := opts.LoadProject(context.Background()) // validates against the compose specification's schema
	require.NoError(t, err)
	var names []string
	for name := range project.Services {
		names = append(names, name)
	}
	for _, want := range []string{"postgres", "temporal-schema", "temporal", "temporal-ui", "migrate", "worker-1", "worker-2", "api-1", "api-2", "prometheus", "grafana"} {
		require.Contains(t, names, want)
	}
	for _, name := range []string{"worker-1", "worker-2", "api-1", "api-2"} {
		s := project.Services[name]
		require.Equal(t, "temporal:7233", *s.Environment["INCASSO_TEMPORAL_ADDRESS"], name)
		require.Contains(t, s.DependsOn, "migrate", name)
	}
	for _, p := range project.Services["api-1"].Ports {
		require.Equal(t, "127.0.0.1", p.HostIP, "ports are published on loopback only")
	}
}

// TestMonitoring parses the alert rules as Prometheus does and every dashboard query as
// PromQL, and checks that each metric they name is one incasso or the Temporal SDK exports.
func TestMonitoring(t *testing.T) {
	known := exported(t)
	rules, errs := rulefmt.ParseFile("monitoring/alerts.yaml", false, model.LegacyValidation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	require.Empty(t, errs)
	runbook, err := os.ReadFile("../docs/RUNBOOK.md")
	require.NoError(t, err)
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
			require.Contains(t, strings.ToLower(string(runbook)), "### "+strings.ToLower(r.Alert), "the runbook says what to do about %s", r.Alert)
		}
	}
	dashboards, err := filepath.Glob("monitoring/grafana-*.json")
	require.NoError(t, err)
	require.Len(t, dashboards, 2)
	for _, file := range dashboards {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var d struct {
			UID    string `json:"uid"`
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		require.NoError(t, dec.Decode(&d), file)
		require.ErrorIs(t, dec.Decode(&struct{}{}), io.EOF, "%s: one JSON document", file)
		require.NotEmpty(t, d.UID, file)
		for _, p := range d.Panels {
			require.NotEmpty(t, p.Targets, "%s: panel %q has no query", file, p.Title)
			for _, target := range p.Targets {
				exprs = append(exprs, target.Expr)
			}
		}
	}
	p := parser.NewParser(parser.Options{})
	for _, e := range exprs {
		expr, err := p.ParseExpr(e)
		require.NoError(t, err, e)
		parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
			if vs, ok := node.(*parser.VectorSelector); ok && vs.Name != "up" {
				require.True(t, known(vs.Name), "%s names %s, which nothing exports", e, vs.Name)
			}
			return nil
		})
	}
}

// exported says whether a metric name is exported: incasso's own, as the registry and the
// state describe them, or one of the Temporal SDK's (its documented names, histograms in
// seconds) or the Temporal server's backlog.
func exported(t *testing.T) func(string) bool {
	t.Helper()
	names := map[string]bool{}
	descs := make(chan *prometheus.Desc)
	go func() {
		(&metrics.State{}).Describe(descs)
		close(descs)
	}()
	fqName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range descs {
		m := fqName.FindStringSubmatch(d.String())
		require.NotNil(t, m, d.String())
		names[m[1]] = true
	}
	// The registry's own metrics, once each has a sample.
	r, err := metrics.New()
	require.NoError(t, err)
	r.ObserveRequest(http.MethodGet, "/healthz", http.StatusOK, time.Millisecond)
	upstream := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer upstream.Close()
	resp, err := (&http.Client{Transport: r.Transport("gpd", nil)}).Get(upstream.URL)
	require.NoError(t, err)
	resp.Body.Close()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) `).FindAllStringSubmatch(rec.Body.String(), -1) {
		names[m[1]] = true
	}
	require.True(t, names["incasso_api_requests_total"] && names["incasso_upstream_request_duration_seconds"])
	sdk := regexp.MustCompile(`^temporal_(workflow_(completed|failed|canceled|continue_as_new|task_execution_failed)|activity_execution_failed|request_failure|worker_task_slots_(available|used)|sticky_cache_size|num_pollers|(workflow_task|activity)_schedule_to_start_latency_seconds_bucket|approximate_backlog_count)$`)
	return func(name string) bool {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		return names[name] || names[base] || sdk.MatchString(name)
	}
}
