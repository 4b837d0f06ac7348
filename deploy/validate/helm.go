// The official centrifugo Helm chart's interface, as of chart 13.5.0 (Centrifugo 6.9.1): its
// defaults for the values its Deployment and ConfigMap read, Helm's merge of user values into
// them, and the Deployment and ConfigMap templates/deployment.yaml and templates/configmap.yaml
// render, re-created here so CI (which cannot download the chart) validates what Kubernetes
// would receive. Verified against `helm template` with the real chart; see deploy/helm/values.yaml.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

const (
	chartVersion = "13.5.0"
	appVersion   = "6.9.1"
	// The README installs the chart as release "centrifugo": the chart's fullname is then
	// "centrifugo" (the release name contains the chart name).
	releaseName = "centrifugo"
	chartName   = "centrifugo"
)

// chartDefaults: chart 13.5.0's values.yaml, for the values templates/deployment.yaml and
// templates/configmap.yaml read (verbatim, comments dropped).
const chartDefaults = `
image: {registry: docker.io, repository: centrifugo/centrifugo, pullPolicy: IfNotPresent, tag: ""}
imagePullSecrets: []
nameOverride: ""
fullnameOverride: ""
servers:
  external: {port: 8000}
  internal: {port: 9000, scheme: HTTP}
  grpc: {port: 10000}
  uniGrpc: {port: 11000}
config:
  engine: {type: "memory"}
  admin: {enabled: true}
  channel: {namespaces: []}
existingSecret: ""
env: {}
envSecret: []
envFrom: []
replicaCount: 1
revisionHistoryLimit: 10
deploymentStrategy: {}
annotations: {}
podAnnotations: {}
podLabels: {}
priorityClassName: ""
hostAliases: []
runtimeClassName: ""
shareProcessNamespace: false
schedulerName: ""
overhead: {}
terminationMessagePolicy: ""
terminationGracePeriodSeconds: 30
lifecycle:
  preStop:
    exec:
      command: ["/bin/sh", "-c", "sleep 5"]
extraContainers: []
initContainers: []
livenessProbe: {}
readinessProbe: {}
startupProbe: {}
resources: {}
nodeSelector: {}
tolerations: []
affinity: {}
dnsPolicy: ""
dnsConfig: {}
topologySpreadConstraints: []
autoscaling: {enabled: false}
serviceAccount: {create: true, annotations: {}, name: ""}
podSecurityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000}
securityContext:
  allowPrivilegeEscalation: false
  capabilities: {drop: [ALL]}
  readOnlyRootFilesystem: true
volumes: []
volumeMounts: []
`

// chartValueNames: every top-level value of chart 13.5.0 (values.yaml, plus enableServiceLinks
// and global that its templates read). Helm silently ignores any other key, so a misspelt or
// made-up key is a problem.
var chartValueNames = strings.Fields(`global image imagePullSecrets nameOverride fullnameOverride
namespaceOverride servers config existingSecret env envSecret envFrom service serviceInternal
serviceGrpc serviceUniGrpc ingress ingressInternal gateway httpRoute httpRouteInternal replicaCount
revisionHistoryLimit deploymentStrategy annotations podAnnotations podLabels priorityClassName
hostAliases runtimeClassName shareProcessNamespace schedulerName overhead terminationMessagePolicy
terminationGracePeriodSeconds lifecycle extraContainers initContainers livenessProbe readinessProbe
startupProbe resources nodeSelector tolerations affinity dnsPolicy dnsConfig
topologySpreadConstraints podDisruptionBudget serviceAccount podSecurityContext securityContext
volumes volumeMounts metrics autoscaling hostCheck enableServiceLinks`)

// coalesce merges user values into chart defaults as Helm does: maps merge recursively, any other
// user value replaces the default, and a null user value deletes the key.
func coalesce(defaults, user map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		dm, dok := out[k].(map[string]any)
		um, uok := v.(map[string]any)
		if dok && uok {
			out[k] = coalesce(dm, um)
		} else {
			out[k] = v
		}
	}
	return out
}

// envSecretEntry is one item of the chart's `envSecret` list.
type envSecretEntry struct {
	Name         string                    `json:"name"`
	SecretKeyRef *corev1.SecretKeySelector `json:"secretKeyRef"`
}

// serverValues is one of the chart's `servers`.
type serverValues struct {
	Port   int32  `json:"port"`
	Scheme string `json:"scheme,omitempty"`
}

// values holds the chart values the Deployment reads, each decoded strictly into the Kubernetes
// type the template pastes it into (toYaml), or into the shape the template iterates.
type values struct {
	Image struct {
		Registry   string `json:"registry"`
		Repository string `json:"repository"`
		PullPolicy string `json:"pullPolicy"`
		Tag        string `json:"tag"`
	}
	Servers struct {
		External serverValues `json:"external"`
		Internal serverValues `json:"internal"`
		Grpc     serverValues `json:"grpc"`
		UniGrpc  serverValues `json:"uniGrpc"`
	}
	Config                        map[string]any
	ExistingSecret                string
	Env                           any
	EnvSecret                     []envSecretEntry
	EnvFrom                       []corev1.EnvFromSource
	ReplicaCount                  int32
	RevisionHistoryLimit          *int32
	PodAnnotations                map[string]string
	PodLabels                     map[string]string
	TerminationGracePeriodSeconds int64
	Lifecycle                     *corev1.Lifecycle
	ExtraContainers               []corev1.Container
	InitContainers                []corev1.Container
	LivenessProbe                 *corev1.Probe
	ReadinessProbe                *corev1.Probe
	StartupProbe                  *corev1.Probe
	Resources                     corev1.ResourceRequirements
	NodeSelector                  map[string]string
	Tolerations                   []corev1.Toleration
	Affinity                      *corev1.Affinity
	TopologySpreadConstraints     []corev1.TopologySpreadConstraint
	PodSecurityContext            *corev1.PodSecurityContext
	SecurityContext               *corev1.SecurityContext
	Volumes                       []corev1.Volume
	VolumeMounts                  []corev1.VolumeMount
}

// targets maps each value the Deployment reads to where it is decoded.
func (v *values) targets() map[string]any {
	return map[string]any{
		"image": &v.Image, "servers": &v.Servers, "config": &v.Config,
		"existingSecret": &v.ExistingSecret, "env": &v.Env, "envSecret": &v.EnvSecret,
		"envFrom": &v.EnvFrom, "replicaCount": &v.ReplicaCount, "revisionHistoryLimit": &v.RevisionHistoryLimit,
		"podAnnotations": &v.PodAnnotations,
		"podLabels":      &v.PodLabels, "terminationGracePeriodSeconds": &v.TerminationGracePeriodSeconds,
		"lifecycle": &v.Lifecycle, "extraContainers": &v.ExtraContainers,
		"initContainers": &v.InitContainers, "livenessProbe": &v.LivenessProbe,
		"readinessProbe": &v.ReadinessProbe, "startupProbe": &v.StartupProbe,
		"resources": &v.Resources, "nodeSelector": &v.NodeSelector, "tolerations": &v.Tolerations,
		"affinity": &v.Affinity, "topologySpreadConstraints": &v.TopologySpreadConstraints,
		"podSecurityContext": &v.PodSecurityContext, "securityContext": &v.SecurityContext,
		"volumes": &v.Volumes, "volumeMounts": &v.VolumeMounts,
	}
}

// strictJSON decodes JSON, refusing fields the target type does not have.
func strictJSON(data []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// renderHelmValues turns a values file into the ConfigMap and Deployment the chart renders,
// reporting the values that break the chart's interface on the way.
func renderHelmValues(r *report, file string) (*corev1.ConfigMap, *appsv1.Deployment, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		r.addf(file, "", "cannot read: %v", err)
		return nil, nil, false
	}
	var user, defaults map[string]any
	if err := yaml.UnmarshalStrict(data, &user); err != nil {
		r.addf(file, "", "not a YAML map of Helm values: %v", err)
		return nil, nil, false
	}
	if err := yaml.Unmarshal([]byte(chartDefaults), &defaults); err != nil {
		panic(err)
	}
	known := map[string]bool{}
	for _, k := range chartValueNames {
		known[k] = true
	}
	for _, k := range sortedKeys(user) {
		if !known[k] {
			r.addf(file, "values", "%s: not a value of chart centrifugo %s (Helm ignores it)", k, chartVersion)
		}
	}
	merged := coalesce(defaults, user)
	// An empty probe map means "the chart's default probe" in the template (`if .Values.x`).
	for _, k := range []string{"livenessProbe", "readinessProbe", "startupProbe", "lifecycle"} {
		if m, ok := merged[k].(map[string]any); ok && len(m) == 0 {
			delete(merged, k)
		}
	}
	var v values
	ok := true
	targets := v.targets()
	for _, k := range sortedKeys(merged) {
		into, read := targets[k]
		if !read {
			continue
		}
		raw, _ := json.Marshal(merged[k])
		if err := strictJSON(raw, into); err != nil {
			r.addf(file, "values", "%s: does not fit the chart (its templates paste this value into the pod as %s): %v", k, strings.TrimPrefix(fmt.Sprintf("%T", into), "*"), err)
			ok = false
		}
	}
	if !ok {
		return nil, nil, false
	}
	env := renderEnv(r, file, v.Env)
	return configMap(&v), deployment(&v, env), true
}

// renderEnv re-creates the template's
//
//	{{- range $key, $value := .Values.env }}
//	- name: {{ $key }}
//	  value: {{ $value | quote }}
//
// Go templates range over a map in key order and over a list by index, and `quote` prints any
// value with %v: a list of EnvVar objects becomes variables named 0, 1, … whose values read
// "map[name:… valueFrom:…]". Such values are reported here; the names fail Kubernetes' rules.
func renderEnv(r *report, file string, env any) []corev1.EnvVar {
	var out []corev1.EnvVar
	add := func(key string, value any) {
		kind := map[bool]string{true: "map", false: "list"}
		switch value.(type) {
		case map[string]any, []any:
			_, isMap := value.(map[string]any)
			r.addf(file, "values", "env.%s: the chart takes `env` as a map of NAME: plain value and quotes each value, so this %s becomes the string %q (secret references go in `envSecret`)", key, kind[isMap], quoteValue(value))
		}
		out = append(out, corev1.EnvVar{Name: key, Value: quoteValue(value)})
	}
	switch e := env.(type) {
	case nil:
	case map[string]any:
		for _, k := range sortedKeys(e) {
			add(k, e[k])
		}
	case []any:
		r.addf(file, "values", "env: is a list; the chart ranges over it as a map of NAME: value, so the variables are named by index (0, 1, …)")
		for i, item := range e {
			add(strconv.Itoa(i), item)
		}
	default:
		r.addf(file, "values", "env: must be a map of NAME: value, not %T (the chart's `range` fails)", env)
	}
	return out
}

// quoteValue is what Sprig's quote prints for a value decoded from YAML.
func quoteValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func fullname() string { return releaseName } // the release name contains the chart name

func selectorLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": chartName, "app.kubernetes.io/instance": releaseName}
}

func chartLabels() map[string]string {
	l := selectorLabels()
	l["helm.sh/chart"] = chartName + "-" + chartVersion
	l["app.kubernetes.io/version"] = appVersion
	l["app.kubernetes.io/managed-by"] = "Helm"
	l["app.kubernetes.io/part-of"] = "centrifugo"
	l["app.kubernetes.io/component"] = "server"
	return l
}

// configMap re-creates templates/configmap.yaml: config.json is `toJson .Values.config`.
func configMap(v *values) *corev1.ConfigMap {
	config, _ := json.Marshal(v.Config)
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: fullname() + "-config", Labels: chartLabels()},
		Data:       map[string]string{"config.json": string(config)},
	}
}

// deployment re-creates templates/deployment.yaml (autoscaling off, no global overrides).
func deployment(v *values, env []corev1.EnvVar) *appsv1.Deployment {
	for _, s := range v.EnvSecret {
		env = append(env, corev1.EnvVar{Name: s.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: s.SecretKeyRef}})
	}
	var envFrom []corev1.EnvFromSource
	if v.ExistingSecret != "" {
		envFrom = append(envFrom, corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: v.ExistingSecret}}})
	}
	envFrom = append(envFrom, v.EnvFrom...)
	tag := v.Image.Tag
	if tag == "" {
		tag = "v" + appVersion
	}
	internalProbe := func(initialDelay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/health", Port: intstr.FromInt32(v.Servers.Internal.Port), Scheme: corev1.URIScheme(v.Servers.Internal.Scheme),
			}},
			InitialDelaySeconds: initialDelay,
			PeriodSeconds:       10,
		}
	}
	liveness, readiness := v.LivenessProbe, v.ReadinessProbe
	if liveness == nil {
		liveness = internalProbe(30)
	}
	if readiness == nil {
		readiness = internalProbe(3)
	}
	port := func(p int32) string { return strconv.Itoa(int(p)) }
	centrifugo := corev1.Container{
		Name:            chartName,
		SecurityContext: v.SecurityContext,
		Image:           fmt.Sprintf("%s/%s:%s", v.Image.Registry, v.Image.Repository, tag),
		ImagePullPolicy: corev1.PullPolicy(v.Image.PullPolicy),
		Command:         []string{"centrifugo"},
		Args: []string{
			"--health.enabled", "--prometheus.enabled",
			"--http_server.port", port(v.Servers.External.Port),
			"--http_server.internal_port", port(v.Servers.Internal.Port),
			"--grpc_api.port", port(v.Servers.Grpc.Port),
			"--uni_grpc.port", port(v.Servers.UniGrpc.Port),
		},
		EnvFrom: envFrom,
		Env:     env,
		VolumeMounts: append([]corev1.VolumeMount{
			{Name: fullname() + "-config", MountPath: "/centrifugo", ReadOnly: true},
		}, v.VolumeMounts...),
		Ports: []corev1.ContainerPort{
			{Name: "external", ContainerPort: v.Servers.External.Port},
			{Name: "internal", ContainerPort: v.Servers.Internal.Port},
			{Name: "grpc", ContainerPort: v.Servers.Grpc.Port},
			{Name: "uni-grpc", ContainerPort: v.Servers.UniGrpc.Port},
		},
		LivenessProbe:  liveness,
		ReadinessProbe: readiness,
		StartupProbe:   v.StartupProbe,
		Resources:      v.Resources,
		Lifecycle:      v.Lifecycle,
	}
	podLabels := selectorLabels()
	for k, l := range v.PodLabels {
		podLabels[k] = l
	}
	replicas, grace := v.ReplicaCount, v.TerminationGracePeriodSeconds
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: fullname(), Labels: chartLabels()},
		Spec: appsv1.DeploymentSpec{
			Replicas:             &replicas,
			RevisionHistoryLimit: v.RevisionHistoryLimit,
			Selector:             &metav1.LabelSelector{MatchLabels: selectorLabels()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: v.PodAnnotations},
				Spec: corev1.PodSpec{
					TopologySpreadConstraints:     v.TopologySpreadConstraints,
					ServiceAccountName:            fullname(),
					SecurityContext:               v.PodSecurityContext,
					TerminationGracePeriodSeconds: &grace,
					Volumes: append([]corev1.Volume{{
						Name:         fullname() + "-config",
						VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: fullname() + "-config"}}},
					}}, v.Volumes...),
					InitContainers: v.InitContainers,
					Containers:     append([]corev1.Container{centrifugo}, v.ExtraContainers...),
					NodeSelector:   v.NodeSelector,
					Affinity:       v.Affinity,
					Tolerations:    v.Tolerations,
				},
			},
		},
	}
}

// checkHelmValuesFile validates what the chart renders from a values file.
func checkHelmValuesFile(r *report, file string) {
	cm, d, ok := renderHelmValues(r, file)
	if !ok {
		return
	}
	r.objects += 2
	what := fmt.Sprintf("as chart centrifugo %s renders it", chartVersion)
	r.add(file, fmt.Sprintf("ConfigMap %q (%s)", cm.Name, what), validateConfigMap(cm))
	r.add(file, fmt.Sprintf("Deployment %q (%s)", d.Name, what), validateDeployment(d))
}

// printHelmRender prints the ConfigMap and Deployment as YAML documents, for tests that hold the
// rendered pod to the binary.
func printHelmRender(r *report, file string) {
	cm, d, ok := renderHelmValues(r, file)
	if !ok {
		return
	}
	for _, o := range []any{cm, d} {
		out, err := yaml.Marshal(o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("---\n%s", out)
	}
}
