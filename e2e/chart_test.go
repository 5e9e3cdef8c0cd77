package e2e_test

// The Helm chart (manifests/chart/aku) against the kustomize base
// (manifests/base): with default values both render the same objects, both
// are accepted by a real API server, and what a pod of either would see (its
// environment, aku.conf, the password file) loads as the configuration the
// objects around it expect.
//
// Normalisation before comparing, and nothing else:
//   - kustomize's generated ConfigMap and Secret carry a content hash suffix
//     (aku-conf-<10 chars>); it is stripped from their names and from every
//     string equal to such a name (the StatefulSet's volume references). The
//     chart uses fixed names.
//   - the labels Helm's conventions add, helmOnlyLabels, are dropped from the
//     chart's top-level metadata.labels (the chart puts them nowhere else).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/aku-k8s/aku/e2e/framework"
	"github.com/aku-k8s/aku/lifecycle/config"
)

// helmVersion is the Makefile's HELM_VERSION: `make helm` builds it into
// ${AKU_CACHE:-~/.cache/aku}/helm-<version>/helm.
const helmVersion = "v3.22.0"

// helmOnlyLabels are the chart's labels the kustomize base has no
// counterpart for, ignored on the chart's top-level objects.
var helmOnlyLabels = []string{"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance"}

// kustomizeHash is the suffix of a generated ConfigMap or Secret.
var kustomizeHash = regexp.MustCompile(`-[a-z0-9]{10}$`)

func chartDir() string { return filepath.Join(manifests(), "..", "chart", "aku") }

// helm returns the helm binary: $AKU_HELM, else the one `make helm` built.
// A missing helm fails the test: the chart is part of what is shipped.
func helm(t *testing.T) string {
	t.Helper()
	path := os.Getenv("AKU_HELM")
	if path == "" {
		cache := os.Getenv("AKU_CACHE")
		if cache == "" {
			home, _ := os.UserHomeDir()
			cache = filepath.Join(home, ".cache", "aku")
		}
		path = filepath.Join(cache, "helm-"+helmVersion, "helm")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("helm %s is not at %s: run `make helm` (or set AKU_HELM to a helm v3 binary)", helmVersion, path)
	}
	return path
}

// helmCmd is helm with its cache, configuration and data under the test's
// temporary directory, not the user's home.
func helmCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
	return cmd
}

// run runs cmd and returns its standard output; a failure fails the test.
func run(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(cmd.Path), strings.Join(cmd.Args[1:], " "), err, stderr.Bytes(), stdout.Bytes())
	}
	return stdout.Bytes()
}

func renderBase(t *testing.T) []byte {
	t.Helper()
	return run(t, exec.Command("kubectl", "kustomize", manifests()))
}

// renderChart runs `helm template aku <chart>` with the given values files
// (written from YAML text) and further arguments.
func renderChart(t *testing.T, values string, args ...string) []byte {
	t.Helper()
	a := []string{"template", "aku", chartDir()}
	if values != "" {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(values), 0o600); err != nil {
			t.Fatal(err)
		}
		a = append(a, "-f", f)
	}
	return run(t, helmCmd(t, append(a, args...)...))
}

type objKey struct{ Kind, Namespace, Name string }

func (k objKey) String() string {
	if k.Namespace != "" {
		return k.Kind + " " + k.Namespace + "/" + k.Name
	}
	return k.Kind + " " + k.Name
}

type objects map[objKey]map[string]any

func parseObjects(t *testing.T, data []byte) objects {
	t.Helper()
	objs := objects{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var o map[string]any
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse the rendered objects: %v\n%s", err, data)
		}
		if len(o) == 0 {
			continue
		}
		md, _ := o["metadata"].(map[string]any)
		k := objKey{Kind: str(o["kind"]), Namespace: str(md["namespace"]), Name: str(md["name"])}
		if _, dup := objs[k]; dup {
			t.Fatalf("%s rendered twice", k)
		}
		objs[k] = o
	}
	return objs
}

func str(v any) string { s, _ := v.(string); return s }

// normaliseBase strips the hash suffix of kustomize's generated ConfigMaps
// and Secrets from their names and from every string naming them.
func normaliseBase(t *testing.T, objs objects) objects {
	t.Helper()
	renamed := map[string]string{}
	out := objects{}
	for k, o := range objs {
		if (k.Kind == "ConfigMap" || k.Kind == "Secret") && kustomizeHash.MatchString(k.Name) {
			plain := kustomizeHash.ReplaceAllString(k.Name, "")
			renamed[k.Name] = plain
			o["metadata"].(map[string]any)["name"] = plain
			k.Name = plain
		}
		out[k] = o
	}
	if len(renamed) != 2 {
		t.Fatalf("kustomize generated %v, want the ConfigMap and the Secret with a hash suffix", renamed)
	}
	for k, o := range out {
		out[k] = replaceStrings(o, renamed).(map[string]any)
	}
	return out
}

func replaceStrings(v any, m map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = replaceStrings(e, m)
		}
	case []any:
		for i, e := range v {
			v[i] = replaceStrings(e, m)
		}
	case string:
		if r, ok := m[v]; ok {
			return r
		}
	}
	return v
}

// normaliseChart drops helmOnlyLabels from the objects' own labels, after
// checking each object has them (so the list stays the documented one).
func normaliseChart(t *testing.T, objs objects) objects {
	t.Helper()
	for k, o := range objs {
		labels, _ := o["metadata"].(map[string]any)["labels"].(map[string]any)
		for _, l := range helmOnlyLabels {
			if _, ok := labels[l]; !ok {
				t.Errorf("%s: no label %s", k, l)
			}
			delete(labels, l)
		}
	}
	return objs
}

// diff lists the paths where a and b differ.
func diff(path string, a, b any, out *[]string) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := slices.Sorted(maps.Keys(av))
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			diff(path+"."+k, av[k], bv[k], out)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			diff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		as, bs := str(a), str(b)
		if strings.Contains(as, "\n") && strings.Contains(bs, "\n") {
			al, bl := strings.Split(as, "\n"), strings.Split(bs, "\n")
			for i := 0; i < max(len(al), len(bl)); i++ {
				if i >= len(al) || i >= len(bl) || al[i] != bl[i] {
					*out = append(*out, fmt.Sprintf("%s: line %d: kustomize %q, helm %q", path, i+1, line(al, i), line(bl, i)))
					return
				}
			}
		}
		*out = append(*out, fmt.Sprintf("%s: kustomize %s, helm %s", path, jsonText(a), jsonText(b)))
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}

func jsonText(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// With default values the chart renders exactly the kustomize base's objects.
func TestChartRendersTheBase(t *testing.T) {
	base := normaliseBase(t, parseObjects(t, renderBase(t)))
	chart := normaliseChart(t, parseObjects(t, renderChart(t, "")))
	if len(base) != 9 {
		t.Errorf("the base renders %d objects, want 9: %v", len(base), sortedKeys(base, nil))
	}
	for _, k := range sortedKeys(base, chart) {
		b, c := base[k], chart[k]
		switch {
		case c == nil:
			t.Errorf("%s: in the base, not rendered by the chart", k)
		case b == nil:
			t.Errorf("%s: rendered by the chart, not in the base", k)
		default:
			var d []string
			diff("", b, c, &d)
			if len(d) > 0 {
				t.Errorf("%s differs:\n  %s", k, strings.Join(d, "\n  "))
			}
		}
	}
}

func sortedKeys(a, b objects) []objKey {
	seen := map[objKey]bool{}
	var keys []objKey
	for _, m := range []objects{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// customValues exercises every branch of the templates that the defaults do
// not: other names, an existing Secret under another key, two replication
// groups with a partition, extension properties (marker file, ports),
// storage class, digests, pull policies, Parallel, pod extras.
const customValues = `
image:
  aku: {repository: registry.example.com/aku, tag: "1.2.0", pullPolicy: IfNotPresent}
  altibase:
    repository: registry.example.com/altibase
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    pullPolicy: Always
imagePullSecrets: [{name: regcred}]
names: {statefulSet: db, service: db-hl, serviceAccount: db-aku, configMap: db-aku-conf}
replicas: 2
podManagementPolicy: Parallel
terminationGracePeriodSeconds: 600
replicationResetAtEnd: 1
sysPassword: {existingSecret: altibase-admin, existingSecretKey: sys-password}
akuConf:
  properties:
    AKU_PORT_NO: 30300
    AKU_REPLICATION_PORT_NO: 30301
    AKU_QUERY_TIMEOUT: 4294967295
    AKU_MARKER_FILE: /tmp/started
    AKU_START_TIMEOUT: 3600
    AKU_SERVER_COUNT: 3
    AKU_ADDRESS_CHECK_COUNT: null
  replications:
    - namePrefix: REP_A
      syncParallelCount: 4
      tables: [SYS.T1, "SYS.T2 PARTITION P1"]
    - namePrefix: REP_B
      tables: [APP.ORDERS]
altibase:
  resources: {requests: {cpu: "2", memory: 8Gi}, limits: {memory: 8Gi}}
  extraEnv: [{name: AKU_LOG_LEVEL, value: debug}]
  dataMountPath: /data
akuInstall:
  securityContext: {runAsUser: null, runAsGroup: null}
storage: {size: 50Gi, storageClassName: fast-ssd}
podDisruptionBudget: {maxUnavailable: 1}
podAnnotations: {example.com/backup: "true"}
podLabels: {tier: db}
nodeSelector: {disktype: ssd}
tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]
priorityClassName: high
`

// Both renders, and the chart with customValues or without the
// PodDisruptionBudget, are accepted by a real API server; the chart also
// installs, upgrades and uninstalls with helm itself.
func TestChartAndBaseOnTheAPIServer(t *testing.T) {
	renders := map[string][]byte{
		"base":         renderBase(t),
		"chart":        renderChart(t, ""),
		"chart-custom": renderChart(t, customValues),
		"chart-no-pdb": renderChart(t, "", "--set", "podDisruptionBudget.enabled=false"),
	}
	cp := framework.Start(t, framework.Options{})
	for _, name := range slices.Sorted(maps.Keys(renders)) {
		ns := name
		framework.Namespace(t, cp.Admin(), ns)
		file := filepath.Join(t.TempDir(), name+".yaml")
		if err := os.WriteFile(file, renders[name], 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := cp.Kubectl("apply", "--dry-run=server", "-n", ns, "-f", file)
		if err != nil {
			t.Errorf("%s: server-side dry run: %v", name, err)
			continue
		}
		t.Logf("%s:\n%s", name, out)
		if got, want := strings.Count(out, "(server dry run)"), len(parseObjects(t, renders[name])); got != want {
			t.Errorf("%s: %d objects accepted, want %d", name, got, want)
		}
	}
	if out, err := cp.Kubectl("apply", "--dry-run=server", "-n", "base", "-k", manifests()); err != nil {
		t.Errorf("kubectl apply -k manifests/base: %v", err)
	} else if !strings.Contains(out, "poddisruptionbudget.policy/altibase-sts created (server dry run)") {
		t.Errorf("no PodDisruptionBudget in:\n%s", out)
	}

	// helm install, upgrade and uninstall for real (no kubelet: the pods
	// never run, and without the controller manager none is made).
	framework.Namespace(t, cp.Admin(), "helm")
	h := func(args ...string) string {
		return string(run(t, helmCmd(t, append(args, "-n", "helm", "--kubeconfig", cp.Kubeconfig())...)))
	}
	out := h("install", "aku", chartDir())
	t.Logf("helm install:\n%s", out)
	if !strings.Contains(out, "STATUS: deployed") || !strings.Contains(out, `WARNING: the SYS password is the sample "manager"`) {
		t.Errorf("helm install: no deployed status or no warning about the sample password:\n%s", out)
	}
	ctx := bounded(t)
	h("upgrade", "aku", chartDir(), "--set", "replicas=2")
	s, err := cp.Admin().AppsV1().StatefulSets("helm").Get(ctx, "altibase-sts", metav1.GetOptions{})
	if err != nil || *s.Spec.Replicas != 2 || s.Labels["app.kubernetes.io/managed-by"] != "Helm" {
		t.Errorf("after helm upgrade --set replicas=2: %v, %v", s, err)
	}
	h("uninstall", "aku")
	if _, err := cp.Admin().CoordinationV1().Leases("helm").Get(ctx, "altibase-sts-aku-start", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Lease after helm uninstall: %v", err)
	}
}

// podView is what a pod of the rendered StatefulSet sees, loaded as aku
// loads it: its container's environment (the downward API played), aku.conf
// from the ConfigMap and the password file from the Secret (or, for an
// existing Secret, secretData). It checks the configuration agrees with the
// objects around it and that the password is nowhere but in the Secret.
func podView(t *testing.T, objs objects, secretData map[string]string) *config.Config {
	t.Helper()
	var sts appsv1.StatefulSet
	var stsKey objKey
	for k, o := range objs {
		if k.Kind == "StatefulSet" {
			stsKey = k
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, &sts); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sts.Name == "" {
		t.Fatal("no StatefulSet")
	}
	pod := sts.Spec.Template.Spec
	var c *corev1.Container
	for i := range pod.Containers {
		if pod.Containers[i].Name == "altibase" {
			c = &pod.Containers[i]
		}
	}
	if c == nil {
		t.Fatalf("%s: no altibase container", stsKey)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{} // mount path -> volume
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	// A file in the container: the volume mounted on its directory, and
	// the key projected as its base name.
	fileIn := func(path string) (corev1.Volume, string) {
		dir, base := filepath.Dir(path), filepath.Base(path)
		v, ok := volumes[mounts[dir]]
		if !ok {
			t.Fatalf("%s: nothing mounted on %s (for %s)", stsKey, dir, path)
		}
		var items []corev1.KeyToPath
		switch {
		case v.ConfigMap != nil:
			items = v.ConfigMap.Items
		case v.Secret != nil:
			items = v.Secret.Items
		}
		for _, it := range items {
			if it.Path == base {
				return v, it.Key
			}
		}
		if len(items) > 0 {
			t.Fatalf("%s: volume %s does not project %s", stsKey, v.Name, base)
		}
		return v, base
	}

	env := map[string]string{}
	for _, e := range c.Env {
		if strings.Contains(e.Name, "PASSWORD") && e.Name != config.EnvSysPasswordFile {
			t.Errorf("%s: environment variable %s: the password must come only from the Secret's file", stsKey, e.Name)
		}
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = sts.Name + "-0"
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace":
			env[e.Name] = "db"
		default:
			t.Errorf("%s: environment variable %s from %+v", stsKey, e.Name, e.ValueFrom)
		}
	}
	if len(c.EnvFrom) > 0 {
		t.Errorf("%s: envFrom %+v", stsKey, c.EnvFrom)
	}

	// aku.conf from the ConfigMap.
	confVol, confKey := fileIn(env["AKU_CONF"])
	if confVol.ConfigMap == nil {
		t.Fatalf("%s: AKU_CONF=%s is not from a ConfigMap", stsKey, env["AKU_CONF"])
	}
	cm := objs[objKey{Kind: "ConfigMap", Name: confVol.ConfigMap.Name}]
	if cm == nil {
		t.Fatalf("%s: ConfigMap %s is not rendered", stsKey, confVol.ConfigMap.Name)
	}
	conf, ok := cm["data"].(map[string]any)[confKey].(string)
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", confVol.ConfigMap.Name, confKey)
	}
	for k, o := range objs {
		if k.Kind == "ConfigMap" && strings.Contains(jsonText(o["data"]), "AKU_SYS_PASSWORD =") {
			t.Errorf("%s holds AKU_SYS_PASSWORD", k)
		}
	}

	// The password file from the Secret.
	pwVol, pwKey := fileIn(env[config.EnvSysPasswordFile])
	if pwVol.Secret == nil {
		t.Fatalf("%s: %s=%s is not from a Secret", stsKey, config.EnvSysPasswordFile, env[config.EnvSysPasswordFile])
	}
	password, ok := secretData[pwKey]
	if secret := objs[objKey{Kind: "Secret", Name: pwVol.Secret.SecretName}]; secret != nil {
		b, err := base64.StdEncoding.DecodeString(str(secret["data"].(map[string]any)[pwKey]))
		if err != nil {
			t.Fatal(err)
		}
		password, ok = string(b), true
	}
	if !ok {
		t.Fatalf("%s: Secret %s (key %s) is neither rendered nor given", stsKey, pwVol.Secret.SecretName, pwKey)
	}
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password), 0o400); err != nil {
		t.Fatal(err)
	}

	// Without the password file aku.conf alone lacks the password.
	getenv := func(skip string) func(string) string {
		return func(name string) string {
			if name == skip {
				return ""
			}
			if name == config.EnvSysPasswordFile {
				return pwFile
			}
			return env[name]
		}
	}
	_, err := config.Parse("aku.conf", strings.NewReader(conf), config.WithEnv(getenv(config.EnvSysPasswordFile)))
	var ce *config.Error
	if !errors.As(err, &ce) || !errors.Is(err, config.ErrMissing) || ce.Property != config.PropSysPassword {
		t.Errorf("aku.conf without the password file: err = %v, want AKU_SYS_PASSWORD missing", err)
	}
	cfg, err := config.Parse("aku.conf", strings.NewReader(conf), config.WithEnv(getenv("")))
	if err != nil {
		t.Fatalf("aku.conf as the pod loads it: %v\n%s", err, conf)
	}
	if cfg.PasswordSource.Kind != config.FromSecretFile || cfg.SysPassword.Reveal() != password {
		t.Errorf("password from %v", cfg.PasswordSource)
	}

	// The configuration names the objects around it.
	if cfg.STSName != sts.Name || cfg.SVCName != sts.Spec.ServiceName {
		t.Errorf("aku.conf names %s/%s, the objects %s/%s", cfg.STSName, cfg.SVCName, sts.Name, sts.Spec.ServiceName)
	}
	if objs[objKey{Kind: "Service", Name: cfg.SVCName}] == nil {
		t.Errorf("no Service %s", cfg.SVCName)
	}
	if objs[objKey{Kind: "Lease", Name: cfg.Lease()}] == nil {
		t.Errorf("no Lease %q", cfg.Lease())
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if int(ports["service"]) != cfg.PortNo || int(ports["replication"]) != cfg.ReplicationPortNo ||
		env["ALTIBASE_PORT_NO"] != strconv.Itoa(cfg.PortNo) || env["ALTIBASE_REPLICATION_PORT_NO"] != strconv.Itoa(cfg.ReplicationPortNo) {
		t.Errorf("ports: container %v, environment %s/%s, aku.conf %d/%d", ports,
			env["ALTIBASE_PORT_NO"], env["ALTIBASE_REPLICATION_PORT_NO"], cfg.PortNo, cfg.ReplicationPortNo)
	}
	var svc corev1.Service
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[objKey{Kind: "Service", Name: cfg.SVCName}], &svc); err != nil {
		t.Fatal(err)
	}
	var svcPorts []int
	for _, p := range svc.Spec.Ports {
		svcPorts = append(svcPorts, int(p.Port))
	}
	if !slices.Equal(svcPorts, []int{cfg.PortNo, cfg.ReplicationPortNo}) || !reflect.DeepEqual(svc.Spec.Selector, sts.Spec.Selector.MatchLabels) {
		t.Errorf("Service ports %v selector %v", svcPorts, svc.Spec.Selector)
	}
	if probe := c.StartupProbe; probe == nil || probe.Exec == nil || !slices.Equal(probe.Exec.Command, []string{"cat", cfg.MarkerFile}) {
		t.Errorf("startupProbe %+v does not check the marker %s", c.StartupProbe, cfg.MarkerFile)
	}
	var role rbacv1.Role
	for k, o := range objs {
		if k.Kind == "Role" {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, &role); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantRules := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{cfg.Lease()}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
	}
	if !reflect.DeepEqual(role.Rules, wantRules) {
		t.Errorf("Role %s rules %+v, want exactly what the hooks use %+v", role.Name, role.Rules, wantRules)
	}
	if pod.ServiceAccountName == "" || objs[objKey{Kind: "ServiceAccount", Name: pod.ServiceAccountName}] == nil {
		t.Errorf("pods run as ServiceAccount %q, not rendered", pod.ServiceAccountName)
	}
	return cfg
}

// What the pods of the base and of the chart (default and custom values)
// would load: aku.conf plus the password only from the Secret's file.
func TestManifestsPodView(t *testing.T) {
	t.Run("base", func(t *testing.T) {
		cfg := podView(t, parseObjects(t, renderBase(t)), nil)
		if cfg.ReplicationResetAtEnd != config.ResetAuto || cfg.ServerCount != 4 || len(cfg.Groups) != 1 || cfg.Groups[0].Items[0].String() != "SYS.T1" {
			t.Errorf("base configuration %+v", cfg)
		}
	})
	t.Run("chart", func(t *testing.T) {
		podView(t, parseObjects(t, renderChart(t, "")), nil)
	})
	t.Run("chart-custom", func(t *testing.T) {
		objs := parseObjects(t, renderChart(t, customValues))
		if objs[objKey{Kind: "Secret", Name: "altibase-admin"}] != nil || objs[objKey{Kind: "Secret", Name: "aku-sys-password"}] != nil {
			t.Error("a Secret is rendered although sysPassword.existingSecret is set")
		}
		cfg := podView(t, objs, map[string]string{"sys-password": "s3cret#x"})
		var groups []string
		for _, g := range cfg.Groups {
			var ts []string
			for _, tg := range g.Items {
				ts = append(ts, tg.String())
			}
			groups = append(groups, fmt.Sprintf("%s/%d:%s", g.Prefix, g.SyncParallel, strings.Join(ts, ",")))
		}
		if want := []string{"REP_A/4:SYS.T1,SYS.T2 PARTITION P1", "REP_B/1:APP.ORDERS"}; !slices.Equal(groups, want) {
			t.Errorf("groups %v, want %v", groups, want)
		}
		if cfg.STSName != "db" || cfg.Lease() != "db-aku-start" || cfg.PortNo != 30300 || cfg.QueryTimeout.Seconds() != 4294967295 ||
			cfg.MarkerFile != "/tmp/started" || cfg.ReplicationResetAtEnd != config.ResetAlways || cfg.ServerCount != 3 ||
			cfg.AddressCheckCount != 30 || cfg.Sources[config.PropAddressCheckCount].Kind != config.FromDefault {
			t.Errorf("custom configuration %+v", cfg)
		}
		var sts appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(objs[objKey{Kind: "StatefulSet", Name: "db"}], &sts); err != nil {
			t.Fatal(err)
		}
		spec := sts.Spec.Template.Spec
		c, ic := spec.Containers[0], spec.InitContainers[0]
		pvc := sts.Spec.VolumeClaimTemplates[0].Spec
		for what, ok := range map[string]bool{
			"altibase image":    c.Image == "registry.example.com/altibase@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" && c.ImagePullPolicy == corev1.PullAlways,
			"aku image":         ic.Image == "registry.example.com/aku:1.2.0" && ic.ImagePullPolicy == corev1.PullIfNotPresent,
			"replicas":          *sts.Spec.Replicas == 2 && sts.Spec.PodManagementPolicy == appsv1.ParallelPodManagement,
			"grace period":      *spec.TerminationGracePeriodSeconds == 600,
			"storage":           pvc.StorageClassName != nil && *pvc.StorageClassName == "fast-ssd" && pvc.Resources.Requests.Storage().String() == "50Gi",
			"data mount":        slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "data" && m.MountPath == "/data" }),
			"resources":         c.Resources.Requests.Memory().String() == "8Gi",
			"extra env":         c.Env[len(c.Env)-1].Name == "AKU_LOG_LEVEL",
			"init uid dropped":  ic.SecurityContext.RunAsUser == nil && ic.SecurityContext.RunAsGroup == nil && *ic.SecurityContext.RunAsNonRoot,
			"pod labels":        spec.PriorityClassName == "high" && sts.Spec.Template.Labels["tier"] == "db" && sts.Spec.Template.Labels["app"] == "db",
			"pod extras":        sts.Spec.Template.Annotations["example.com/backup"] == "true" && spec.NodeSelector["disktype"] == "ssd" && len(spec.Tolerations) == 1 && spec.ImagePullSecrets[0].Name == "regcred",
			"selector is fixed": reflect.DeepEqual(sts.Spec.Selector.MatchLabels, map[string]string{"app": "db"}),
		} {
			if !ok {
				t.Errorf("custom values: %s not as given", what)
			}
		}
	})
}

// The platform-facing parts of both renders: the PodDisruptionBudget, the
// volume retention, the unprivileged init container running `aku install`.
func TestManifestsForThePlatform(t *testing.T) {
	for name, render := range map[string]func(*testing.T) []byte{
		"base":  renderBase,
		"chart": func(t *testing.T) []byte { return renderChart(t, "") },
	} {
		t.Run(name, func(t *testing.T) {
			objs := parseObjects(t, render(t))
			var sts appsv1.StatefulSet
			var pdb policyv1.PodDisruptionBudget
			for k, o := range objs {
				var into any
				switch k.Kind {
				case "StatefulSet":
					into = &sts
				case "PodDisruptionBudget":
					into = &pdb
				default:
					continue
				}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, into); err != nil {
					t.Fatal(err)
				}
			}
			if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil ||
				pdb.Spec.Selector == nil || !reflect.DeepEqual(pdb.Spec.Selector.MatchLabels, sts.Spec.Selector.MatchLabels) {
				t.Errorf("PodDisruptionBudget %+v, want maxUnavailable 1 selecting %v", pdb.Spec, sts.Spec.Selector)
			}
			if p := sts.Spec.PersistentVolumeClaimRetentionPolicy; p == nil ||
				p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType || p.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
				t.Errorf("persistentVolumeClaimRetentionPolicy %+v, want Retain/Retain", p)
			}
			spec := sts.Spec.Template.Spec
			if spec.SecurityContext != nil && spec.SecurityContext.FSGroup != nil {
				t.Errorf("pod fsGroup %d: it would also apply to the Altibase container's volumes", *spec.SecurityContext.FSGroup)
			}
			if len(spec.InitContainers) != 1 {
				t.Fatalf("init containers %+v", spec.InitContainers)
			}
			ic := spec.InitContainers[0]
			if !slices.Equal(ic.Command, []string{"/opt/aku/bin/aku", "install", "/aku"}) || len(ic.Args) != 0 || ic.Image != "aku:latest" {
				t.Errorf("init container runs %s %v %v, want aku:latest /opt/aku/bin/aku install /aku", ic.Image, ic.Command, ic.Args)
			}
			sc, yes, no, uid := ic.SecurityContext, true, false, int64(65532)
			want := &corev1.SecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid, ReadOnlyRootFilesystem: &yes,
				AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
			if !reflect.DeepEqual(sc, want) {
				t.Errorf("init container securityContext %+v, want %+v", sc, want)
			}
			r := ic.Resources
			if r.Requests.Cpu().MilliValue() != 10 || r.Requests.Memory().Value() != 32<<20 || r.Limits.Cpu().IsZero() || r.Limits.Memory().Cmp(*r.Requests.Memory()) < 0 {
				t.Errorf("init container resources %+v", r)
			}
			// Its only writable place is the shared emptyDir, on the default
			// medium: the kubelet makes it mode 0777, so uid 65532 may write.
			if len(ic.VolumeMounts) != 1 || ic.VolumeMounts[0].MountPath != "/aku" {
				t.Errorf("init container mounts %+v", ic.VolumeMounts)
			}
			for _, v := range spec.Volumes {
				if v.Name == ic.VolumeMounts[0].Name && (v.EmptyDir == nil || v.EmptyDir.Medium != "") {
					t.Errorf("volume %s is %+v, want an emptyDir on the default medium", v.Name, v.VolumeSource)
				}
			}
		})
	}
}

// helm lint --strict is clean; values.schema.json refuses what aku would
// (or what must not be in aku.conf) and lists exactly the properties aku.conf
// may hold besides those the chart sets elsewhere, with aku's ranges.
func TestChartSchema(t *testing.T) {
	valuesFile := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(valuesFile, []byte(customValues), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"-f", valuesFile}} {
		if out := run(t, helmCmd(t, append([]string{"lint", "--strict", chartDir()}, args...)...)); !bytes.Contains(out, []byte("0 chart(s) failed")) {
			t.Errorf("helm lint %v:\n%s", args, out)
		}
	}
	for _, set := range []string{
		"akuConf.properties.AKU_SYS_PASSWORD=manager",
		"akuConf.properties.AKU_STS_NAME=x",
		"akuConf.properties.AKU_LEASE_NAME=none",
		"akuConf.properties.AKU_SERVER_COUNT=7",
		"akuConf.properties.AKU_PORT_NO=80",
		"akuConf.properties.AKU_HOST_FORMAT=a#b",
		"akuConf.replications[0].tables[0]=T1",
		"akuConf.replications[0].namePrefix=A_PREFIX_LONGER_THAN_THIRTY_SEVEN_BYTES",
		"names.statefulSet=Altibase",
		"replicationResetAtEnd=yes",
		"podManagementPolicy=Sometimes",
		"replica=3",
	} {
		cmd := helmCmd(t, "template", "aku", chartDir(), "--set", set)
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("--set %s: rendered, want refused by values.schema.json", set)
		} else if !strings.Contains(string(out), "schema") {
			t.Errorf("--set %s: %s", set, out)
		}
	}

	if out, err := helmCmd(t, "template", "aku", chartDir(), "--set", "akuConf.properties.AKU_REPLICATION_PORT_NO=20300").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "AKU_PORT_NO and AKU_REPLICATION_PORT_NO must differ") {
		t.Errorf("equal ports: err = %v\n%s", err, out)
	}

	raw, err := os.ReadFile(filepath.Join(chartDir(), "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	type prop struct {
		Minimum, Maximum *float64
		Enum             []any
	}
	var schema struct {
		Properties struct {
			AkuConf struct {
				Properties struct {
					Properties struct {
						Properties map[string]prop
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	got := schema.Properties.AkuConf.Properties.Properties.Properties
	setElsewhere := []string{config.PropSTSName, config.PropSVCName, config.PropSysPassword,
		config.PropReplicationResetAtEnd, config.PropDiscovery, config.PropLeaseName}
	for _, p := range config.Properties() {
		s, ok := got[p.Name]
		delete(got, p.Name)
		if slices.Contains(setElsewhere, p.Name) {
			if ok {
				t.Errorf("schema: akuConf.properties.%s is set elsewhere by the chart and must be refused here", p.Name)
			}
			continue
		}
		if !ok {
			t.Errorf("schema: akuConf.properties lacks %s", p.Name)
			continue
		}
		if p.Kind == config.KindInt || p.Kind == config.KindFlag {
			if s.Minimum == nil || s.Maximum == nil || int64(*s.Minimum) != p.Min || int64(*s.Maximum) != p.Max {
				t.Errorf("schema: %s range %v..%v, aku's %d..%d", p.Name, deref(s.Minimum), deref(s.Maximum), p.Min, p.Max)
			}
		}
		if p.Kind == config.KindEnum {
			var enum []string
			for _, v := range s.Enum {
				if v != nil {
					enum = append(enum, fmt.Sprint(v))
				}
			}
			if !slices.Equal(enum, p.Values) {
				t.Errorf("schema: %s enum %v, aku's %v", p.Name, enum, p.Values)
			}
		}
	}
	for name := range got {
		t.Errorf("schema: akuConf.properties.%s is not an aku.conf property", name)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
