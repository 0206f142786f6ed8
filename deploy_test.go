package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The example manifests under deploy/ make promises about the gateway (its
// probes, ports, settings, user) that nothing else would check: this test
// decodes each one strictly into the Kubernetes API's own types, so a
// misspelt or misplaced field fails, and holds them against the code.

// settingsReadElsewhere are variables the gateway reads outside parseConfig:
// the Go runtime's.
var settingsReadElsewhere = []string{"GOMEMLIMIT"}

type deployManifests struct {
	files         []string
	kustomized    []string
	gateway       *appsv1.Deployment
	redis         *appsv1.Deployment
	services      map[string]*corev1.Service
	secrets       map[string]*corev1.Secret
	pdb           *policyv1.PodDisruptionBudget
	hpa           *autoscalingv2.HorizontalPodAutoscaler
	networkPolicy *networkingv1.NetworkPolicy
}

func loadDeployManifests(t *testing.T) deployManifests {
	t.Helper()
	files, err := filepath.Glob("deploy/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/: %v", err)
	}
	m := deployManifests{services: map[string]*corev1.Service{}, secrets: map[string]*corev1.Secret{}}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m.files = append(m.files, filepath.Base(file))
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			where := fmt.Sprintf("%s, document %d", file, i+1)
			var head struct{ APIVersion, Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			strict := func(into any) {
				t.Helper()
				if err := decodeStrict(doc, into); err != nil {
					t.Fatalf("%s (%s %s): %v", where, head.APIVersion, head.Kind, err)
				}
			}
			switch head.APIVersion + " " + head.Kind {
			case "apps/v1 Deployment":
				d := &appsv1.Deployment{}
				strict(d)
				switch d.Name {
				case "waldur-quotas-gateway":
					m.gateway = d
				case "waldur-quotas-redis":
					m.redis = d
				default:
					t.Errorf("%s: unexpected Deployment %s", where, d.Name)
				}
			case "v1 Service":
				s := &corev1.Service{}
				strict(s)
				m.services[s.Name] = s
			case "v1 Secret":
				s := &corev1.Secret{}
				strict(s)
				m.secrets[s.Name] = s
			case "policy/v1 PodDisruptionBudget":
				m.pdb = &policyv1.PodDisruptionBudget{}
				strict(m.pdb)
			case "autoscaling/v2 HorizontalPodAutoscaler":
				m.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
				strict(m.hpa)
			case "networking.k8s.io/v1 NetworkPolicy":
				m.networkPolicy = &networkingv1.NetworkPolicy{}
				strict(m.networkPolicy)
			case "kustomize.config.k8s.io/v1beta1 Kustomization":
				var k struct {
					APIVersion string   `json:"apiVersion"`
					Kind       string   `json:"kind"`
					Resources  []string `json:"resources"`
				}
				strict(&k)
				m.kustomized = k.Resources
			default:
				t.Fatalf("%s: %s %s is not a kind this test knows: teach it the promises to check", where, head.APIVersion, head.Kind)
			}
		}
	}
	if m.gateway == nil || m.redis == nil || m.pdb == nil || m.hpa == nil || m.networkPolicy == nil || len(m.secrets) == 0 || len(m.services) < 2 {
		t.Fatalf("deploy/ lacks a manifest: %+v", m)
	}
	return m
}

// decodeStrict decodes a manifest as the API server does in strict mode:
// field names are case-sensitive (encoding/json would take
// "readOnlyRootFileSystem" for the real field, the server would not), and an
// unknown or repeated field is an error.
func decodeStrict(doc string, into any) error {
	raw, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return err
	}
	strictErrs, err := kjson.UnmarshalStrict(raw, into, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	return errors.Join(append(strictErrs, err)...)
}

func stripComments(doc string) string {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")
}

// containerEnv resolves the container's environment as the kubelet would:
// literal values, and Secret keys from deploy/'s Secrets. Values from the
// downward API are named with the field they come from.
func containerEnv(t *testing.T, m deployManifests, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s is set twice", e.Name)
		}
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			secret, ok := m.secrets[ref.Name]
			if !ok {
				t.Errorf("%s: no Secret %s in deploy/", e.Name, ref.Name)
				continue
			}
			v, ok := secret.StringData[ref.Key]
			if !ok {
				t.Errorf("%s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.ResourceFieldRef != nil:
			env[e.Name] = "resource:" + e.ValueFrom.ResourceFieldRef.Resource
		default:
			t.Errorf("%s: a source this test does not resolve", e.Name)
		}
	}
	return env
}

func TestDeployManifests(t *testing.T) {
	m := loadDeployManifests(t)
	gw := m.gateway
	labels := gw.Spec.Template.Labels

	t.Run("kustomization lists every manifest", func(t *testing.T) {
		want := slices.DeleteFunc(slices.Clone(m.files), func(f string) bool { return f == "kustomization.yaml" })
		got := slices.Sorted(slices.Values(m.kustomized))
		if !slices.Equal(got, want) {
			t.Errorf("kustomization resources %v, files %v", got, want)
		}
	})

	if len(gw.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("gateway pod: %d containers, want 1", len(gw.Spec.Template.Spec.Containers))
	}
	c := gw.Spec.Template.Spec.Containers[0]
	env := containerEnv(t, m, c)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}

	t.Run("settings are ones the gateway reads, with values it accepts", func(t *testing.T) {
		read := settingsRead(t)
		for name := range env {
			switch {
			case slices.Contains(read, name), slices.Contains(settingsReadElsewhere, name):
			default:
				t.Errorf("deploy/ sets %s, which the gateway does not read", name)
			}
		}
		if _, ok := env["WALDUR_API_TOKEN"]; ok {
			t.Errorf("WALDUR_API_TOKEN on a Service-wide listener gives its view to every caller")
		}
		cfg, err := parseConfig(nil, envOf(env))
		if err != nil {
			t.Fatalf("the gateway refuses deploy/'s settings: %v", err)
		}
		if cfg.playground || cfg.introspection {
			t.Errorf("production manifests with GraphiQL %v, introspection %v", cfg.playground, cfg.introspection)
		}
		// Several replicas share a cache: the same secret and one Redis.
		if cfg.cacheKeySecret == "" || env["REDIS_URL"] == "" || cfg.cacheTTL <= 0 {
			t.Errorf("replicas without a shared cache: CACHE_KEY_SECRET set %v, REDIS_URL %q, UPSTREAM_CACHE_TTL %v",
				cfg.cacheKeySecret != "", env["REDIS_URL"], cfg.cacheTTL)
		}
		if _, port, _ := net.SplitHostPort(cfg.listen); port != strconv.Itoa(int(ports["http"])) {
			t.Errorf("LISTEN_ADDR %s, container port http %d", cfg.listen, ports["http"])
		}
		if _, port, _ := net.SplitHostPort(env["METRICS_LISTEN_ADDR"]); port != strconv.Itoa(int(ports["metrics"])) {
			t.Errorf("METRICS_LISTEN_ADDR %q, container port metrics %d", env["METRICS_LISTEN_ADDR"], ports["metrics"])
		}
		if env["GOMEMLIMIT"] != "resource:limits.memory" || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("GOMEMLIMIT %q with memory limit %v", env["GOMEMLIMIT"], c.Resources.Limits.Memory())
		}

		// Kubernetes must wait for the gateway's own drain, and the pause before it.
		grace := serverTimeouts{upstreamTimeout: cfg.upstreamTimeout, upstreamRetries: cfg.upstreamRetries}.shutdownGrace()
		if pre := c.Lifecycle; pre != nil && pre.PreStop != nil && pre.PreStop.Sleep != nil {
			grace += time.Duration(pre.PreStop.Sleep.Seconds) * time.Second
		}
		if tg := gw.Spec.Template.Spec.TerminationGracePeriodSeconds; tg == nil || time.Duration(*tg)*time.Second < grace {
			t.Errorf("terminationGracePeriodSeconds %v, the gateway may need %v", tg, grace)
		}
	})

	t.Run("probes", func(t *testing.T) {
		for _, p := range []struct {
			name  string
			probe *corev1.Probe
			path  string
		}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
			if p.probe == nil || p.probe.HTTPGet == nil {
				t.Errorf("%s probe: %+v, want an HTTP GET", p.name, p.probe)
				continue
			}
			if p.probe.HTTPGet.Path != p.path {
				t.Errorf("%s probe path %s, want %s", p.name, p.probe.HTTPGet.Path, p.path)
			}
			if port := p.probe.HTTPGet.Port; port.Type != intstr.String || ports[port.StrVal] == 0 {
				t.Errorf("%s probe port %s is not a named container port", p.name, port.String())
			}
		}
	})

	t.Run("locked down: non-root, read-only, no privileges", func(t *testing.T) {
		pod := gw.Spec.Template.Spec.SecurityContext
		sc := c.SecurityContext
		if pod == nil || sc == nil {
			t.Fatal("no securityContext")
		}
		if pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser == 0 {
			t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", pod)
		}
		if containerfileUser(t) != fmt.Sprintf("%d:%d", *pod.RunAsUser, ptrOr(pod.RunAsGroup, -1)) {
			t.Errorf("runAsUser %d / runAsGroup %d differ from the Containerfile's USER %s", *pod.RunAsUser, ptrOr(pod.RunAsGroup, -1), containerfileUser(t))
		}
		if pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("seccompProfile %+v", pod.SeccompProfile)
		}
		if !ptrOr(sc.ReadOnlyRootFilesystem, false) || ptrOr(sc.AllowPrivilegeEscalation, true) || ptrOr(sc.Privileged, false) {
			t.Errorf("container securityContext %+v", sc)
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("capabilities %+v, want drop ALL, add none", sc.Capabilities)
		}
		if ptrOr(gw.Spec.Template.Spec.AutomountServiceAccountToken, true) {
			t.Errorf("the gateway has no use for a Kubernetes API token")
		}
		r := c.Resources
		if r.Requests.Cpu().IsZero() || r.Requests.Memory().IsZero() || r.Limits.Memory().IsZero() {
			t.Errorf("resources %+v: want CPU and memory requests and a memory limit", r)
		}
	})

	t.Run("Service, PodDisruptionBudget and autoscaler fit the Deployment", func(t *testing.T) {
		svc := m.services[gw.Name]
		if svc == nil {
			t.Fatalf("no Service %s", gw.Name)
		}
		if !selects(svc.Spec.Selector, labels) || !selects(gw.Spec.Selector.MatchLabels, labels) {
			t.Errorf("Service selector %v, pod labels %v", svc.Spec.Selector, labels)
		}
		for _, p := range svc.Spec.Ports {
			if ports[p.TargetPort.String()] == 0 {
				t.Errorf("Service port %s targets %s, not a container port", p.Name, p.TargetPort.String())
			}
		}
		if !selects(m.pdb.Spec.Selector.MatchLabels, labels) {
			t.Errorf("PodDisruptionBudget selector %v, pod labels %v", m.pdb.Spec.Selector.MatchLabels, labels)
		}
		minReplicas := ptrOr(m.hpa.Spec.MinReplicas, 1)
		if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntVal < 1 || mu.IntVal >= minReplicas {
			t.Errorf("PodDisruptionBudget maxUnavailable %v with at least %d replicas: want drains possible and replicas left", mu, minReplicas)
		}
		ref := m.hpa.Spec.ScaleTargetRef
		if ref.Kind != "Deployment" || ref.Name != gw.Name || ref.APIVersion != "apps/v1" {
			t.Errorf("autoscaler targets %+v", ref)
		}
		if minReplicas < 2 || m.hpa.Spec.MaxReplicas < minReplicas || ptrOr(gw.Spec.Replicas, 1) < minReplicas {
			t.Errorf("replicas: Deployment %d, autoscaler %d..%d", ptrOr(gw.Spec.Replicas, 1), minReplicas, m.hpa.Spec.MaxReplicas)
		}
		if len(m.hpa.Spec.Metrics) == 0 || m.hpa.Spec.Metrics[0].Resource == nil || m.hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU {
			t.Errorf("autoscaler metrics %+v: want CPU, against the request", m.hpa.Spec.Metrics)
		}
	})

	t.Run("Redis is where REDIS_URL points, and only the gateway reaches it", func(t *testing.T) {
		u, err := url.Parse(env["REDIS_URL"])
		if err != nil || u.Scheme != "redis" {
			t.Fatalf("REDIS_URL %q: %v", env["REDIS_URL"], err)
		}
		svc := m.services[u.Hostname()]
		if svc == nil || len(svc.Spec.Ports) != 1 || strconv.Itoa(int(svc.Spec.Ports[0].Port)) != u.Port() {
			t.Fatalf("REDIS_URL %s: no Service %s on port %s", u.Redacted(), u.Hostname(), u.Port())
		}
		redisLabels := m.redis.Spec.Template.Labels
		if !selects(svc.Spec.Selector, redisLabels) {
			t.Errorf("Service %s selects %v, Redis pods are %v", svc.Name, svc.Spec.Selector, redisLabels)
		}
		np := m.networkPolicy.Spec
		if !selects(np.PodSelector.MatchLabels, redisLabels) || len(np.Ingress) != 1 || len(np.Ingress[0].From) != 1 ||
			!selects(np.Ingress[0].From[0].PodSelector.MatchLabels, labels) {
			t.Errorf("NetworkPolicy %+v: want Redis reachable from the gateway's pods only", np)
		}
		rc := m.redis.Spec.Template.Spec.Containers[0].SecurityContext
		if rc == nil || !ptrOr(rc.ReadOnlyRootFilesystem, false) || ptrOr(rc.AllowPrivilegeEscalation, true) || !ptrOr(m.redis.Spec.Template.Spec.SecurityContext.RunAsNonRoot, false) {
			t.Errorf("Redis container securityContext %+v", rc)
		}
	})
}

// selects reports whether a selector's labels all match the pod's labels.
func selects(selector, podLabels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if podLabels[k] != v {
			return false
		}
	}
	return true
}

// containerfileUser is the USER line of the Containerfile `make image` builds.
func containerfileUser(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if user, ok := bytes.CutPrefix(line, []byte("USER ")); ok {
			return string(bytes.TrimSpace(user))
		}
	}
	t.Fatal("the Containerfile has no USER")
	return ""
}

func ptrOr[T any](p *T, fallback T) T {
	if p == nil {
		return fallback
	}
	return *p
}
