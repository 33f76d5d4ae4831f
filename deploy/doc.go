// Package deploy holds what runs incasso outside `make run`: the environment example, systemd
// units, the Dockerfile, a compose cluster, Kubernetes manifests, the Temporal Helm chart's
// values, and the Grafana dashboards and Prometheus alerts of monitoring/. It has no code: its
// test checks every file offline (deploy_test.go), so that what is deployed is what was tested.
package deploy
