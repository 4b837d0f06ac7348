// Per-kind validation of decoded objects, built on apimachinery's validators (the same functions
// the API server's validation calls for names, labels, selectors, env var names, ports and keys)
// plus the pod-spec rules the API server enforces that apimachinery does not export (one handler
// per probe, one source per env var, init-container restart policy, requests within limits…).
package main

import (
	"fmt"
	"path"
	"reflect"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func invalid(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(p, value, m))
	}
	return errs
}

// objectMeta validates name, labels and annotations as the API server does on create; manifests
// leave the namespace to `kubectl -n`, so an empty one stands for "default".
func objectMeta(m metav1.ObjectMeta, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	return apivalidation.ValidateObjectMeta(&m, true, nameFn, field.NewPath("metadata"))
}

// setFields lists the JSON names of the non-nil pointer fields of a "one of" struct (VolumeSource,
// EnvVarSource, ProbeHandler, LifecycleHandler, EnvFromSource).
func setFields(v any) []string {
	rv := reflect.ValueOf(v)
	var set []string
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			set = append(set, strings.Split(rv.Type().Field(i).Tag.Get("json"), ",")[0])
		}
	}
	return set
}

func exactlyOne(p *field.Path, v any, what string) field.ErrorList {
	switch set := setFields(v); len(set) {
	case 1:
		return nil
	case 0:
		return field.ErrorList{field.Required(p, "must specify exactly one "+what)}
	default:
		return field.ErrorList{field.Forbidden(p, fmt.Sprintf("must specify exactly one %s, not %s", what, strings.Join(set, " and ")))}
	}
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	errs := objectMeta(d.ObjectMeta, apivalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *d.Spec.Replicas, "must be greater than or equal to 0"))
	}
	errs = append(errs, selectorMatches(d.Spec.Selector, d.Spec.Template.Labels, spec)...)
	tmpl := spec.Child("template")
	errs = append(errs, metavalidation.ValidateLabels(d.Spec.Template.Labels, tmpl.Child("metadata", "labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(d.Spec.Template.Annotations, tmpl.Child("metadata", "annotations"))...)
	if rp := d.Spec.Template.Spec.RestartPolicy; rp != "" && rp != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tmpl.Child("spec", "restartPolicy"), rp, []string{string(corev1.RestartPolicyAlways)}))
	}
	return append(errs, validatePodSpec(&d.Spec.Template.Spec, tmpl.Child("spec"))...)
}

// selectorMatches: a non-empty, valid selector that selects the pod template's labels.
func selectorMatches(sel *metav1.LabelSelector, podLabels map[string]string, spec *field.Path) field.ErrorList {
	p := spec.Child("selector")
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return field.ErrorList{field.Required(p, "a non-empty selector is required")}
	}
	errs := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, p)
	if len(errs) > 0 {
		return errs
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(p, sel, err.Error())}
	}
	if !selector.Matches(labels.Set(podLabels)) {
		errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), podLabels, "`selector` does not match template `labels`"))
	}
	return errs
}

func validatePodSpec(spec *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes := map[string]bool{}
	for i, v := range spec.Volumes {
		vp := p.Child("volumes").Index(i)
		errs = append(errs, invalid(vp.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		if volumes[v.Name] {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		volumes[v.Name] = true
		errs = append(errs, exactlyOne(vp, v.VolumeSource, "volume type")...)
		if v.ConfigMap != nil {
			errs = append(errs, invalid(vp.Child("configMap", "name"), v.ConfigMap.Name, validation.IsDNS1123Subdomain(v.ConfigMap.Name))...)
		}
		if v.Secret != nil {
			errs = append(errs, invalid(vp.Child("secret", "secretName"), v.Secret.SecretName, validation.IsDNS1123Subdomain(v.Secret.SecretName))...)
		}
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), "a pod needs at least one container"))
	}
	names := map[string]bool{}
	portOwner := map[string]string{} // port name -> container, across the whole pod
	for i := range spec.InitContainers {
		errs = append(errs, validateContainer(&spec.InitContainers[i], p.Child("initContainers").Index(i), true, names, volumes, portOwner)...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainer(&spec.Containers[i], p.Child("containers").Index(i), false, names, volumes, portOwner)...)
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	if sc := spec.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		if sc.RunAsUser != nil {
			errs = append(errs, invalid(sp.Child("runAsUser"), *sc.RunAsUser, validation.IsValidUserID(*sc.RunAsUser))...)
		}
		if sc.FSGroup != nil {
			errs = append(errs, invalid(sp.Child("fsGroup"), *sc.FSGroup, validation.IsValidGroupID(*sc.FSGroup))...)
		}
	}
	for i, c := range spec.TopologySpreadConstraints {
		cp := p.Child("topologySpreadConstraints").Index(i)
		if c.MaxSkew <= 0 {
			errs = append(errs, field.Invalid(cp.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		if c.TopologyKey == "" {
			errs = append(errs, field.Required(cp.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, invalid(cp.Child("topologyKey"), c.TopologyKey, validation.IsQualifiedName(c.TopologyKey))...)
		}
		switch c.WhenUnsatisfiable {
		case corev1.DoNotSchedule, corev1.ScheduleAnyway:
		default:
			errs = append(errs, field.NotSupported(cp.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, []string{string(corev1.DoNotSchedule), string(corev1.ScheduleAnyway)}))
		}
		errs = append(errs, metavalidation.ValidateLabelSelector(c.LabelSelector, metavalidation.LabelSelectorValidationOptions{}, cp.Child("labelSelector"))...)
	}
	return errs
}

// validateContainer checks one container; names and portOwner are shared across the pod.
func validateContainer(c *corev1.Container, p *field.Path, isInit bool, names, volumes map[string]bool, portOwner map[string]string) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, invalid(p.Child("name"), c.Name, validation.IsDNS1123Label(c.Name))...)
	if names[c.Name] {
		errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
	}
	names[c.Name] = true
	if strings.TrimSpace(c.Image) == "" || strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "an image is required, without surrounding whitespace"))
	}

	sidecar := false
	if c.RestartPolicy != nil {
		if !isInit {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may only be set on init containers (a native sidecar)"))
		} else if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []string{string(corev1.ContainerRestartPolicyAlways)}))
		} else {
			sidecar = true
		}
	}
	if isInit && !sidecar {
		for _, f := range []struct {
			name string
			set  bool
		}{{"livenessProbe", c.LivenessProbe != nil}, {"readinessProbe", c.ReadinessProbe != nil}, {"startupProbe", c.StartupProbe != nil}, {"lifecycle", c.Lifecycle != nil}} {
			if f.set {
				errs = append(errs, field.Forbidden(p.Child(f.name), "may not be set for init containers without restartPolicy=Always"))
			}
		}
	}

	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	for i, src := range c.EnvFrom {
		ep := p.Child("envFrom").Index(i)
		errs = append(errs, exactlyOne(ep, src, "source (configMapRef or secretRef)")...)
		if src.Prefix != "" {
			errs = append(errs, invalid(ep.Child("prefix"), src.Prefix, validation.IsEnvVarName(src.Prefix))...)
		}
		if src.SecretRef != nil {
			errs = append(errs, invalid(ep.Child("secretRef", "name"), src.SecretRef.Name, validation.IsDNS1123Subdomain(src.SecretRef.Name))...)
		}
		if src.ConfigMapRef != nil {
			errs = append(errs, invalid(ep.Child("configMapRef", "name"), src.ConfigMapRef.Name, validation.IsDNS1123Subdomain(src.ConfigMapRef.Name))...)
		}
	}

	portNames := map[string]bool{}
	ports := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		errs = append(errs, invalid(pp.Child("containerPort"), port.ContainerPort, validation.IsValidPortNum(int(port.ContainerPort)))...)
		if port.HostPort != 0 {
			errs = append(errs, invalid(pp.Child("hostPort"), port.HostPort, validation.IsValidPortNum(int(port.HostPort)))...)
		}
		errs = append(errs, validProtocol(pp.Child("protocol"), port.Protocol)...)
		key := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
		if ports[key] {
			errs = append(errs, field.Duplicate(pp.Child("containerPort"), port.ContainerPort))
		}
		ports[key] = true
		if port.Name == "" {
			continue
		}
		errs = append(errs, invalid(pp.Child("name"), port.Name, validation.IsValidPortName(port.Name))...)
		if portNames[port.Name] {
			errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
		} else if owner, taken := portOwner[port.Name]; taken {
			errs = append(errs, field.Invalid(pp.Child("name"), port.Name, fmt.Sprintf("container %q of this pod already names a port %q: a named targetPort or probe port would be ambiguous", owner, port.Name)))
		}
		portNames[port.Name] = true
		portOwner[port.Name] = c.Name
	}

	errs = append(errs, validateProbe(c.LivenessProbe, p.Child("livenessProbe"), true, portNames)...)
	errs = append(errs, validateProbe(c.ReadinessProbe, p.Child("readinessProbe"), false, portNames)...)
	errs = append(errs, validateProbe(c.StartupProbe, p.Child("startupProbe"), true, portNames)...)
	if c.Lifecycle != nil {
		if h := c.Lifecycle.PostStart; h != nil {
			errs = append(errs, exactlyOne(p.Child("lifecycle", "postStart"), *h, "handler type (exec, httpGet, tcpSocket, sleep)")...)
		}
		if h := c.Lifecycle.PreStop; h != nil {
			errs = append(errs, exactlyOne(p.Child("lifecycle", "preStop"), *h, "handler type (exec, httpGet, tcpSocket, sleep)")...)
		}
	}

	errs = append(errs, validateResources(c.Resources, p.Child("resources"))...)

	mounts := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if !volumes[m.Name] {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if !path.IsAbs(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		}
		if mounts[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mounts[m.MountPath] = true
	}

	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		if sc.RunAsUser != nil {
			errs = append(errs, invalid(sp.Child("runAsUser"), *sc.RunAsUser, validation.IsValidUserID(*sc.RunAsUser))...)
		}
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, field.Invalid(sp, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
	}
	return errs
}

// validateEnv: valid, unique names; a value or exactly one valueFrom source; valid refs.
func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), "environment variable name is required"))
		} else {
			// The strict rule (C-like names): clusters before 1.34 refuse anything else, and a
			// name like "0" cannot be what a program reads.
			errs = append(errs, invalid(ep.Child("name"), e.Name, validation.IsEnvVarName(e.Name))...)
		}
		if seen[e.Name] {
			errs = append(errs, field.Duplicate(ep.Child("name"), e.Name))
		}
		seen[e.Name] = true
		if e.ValueFrom == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		if e.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		errs = append(errs, exactlyOne(vp, *e.ValueFrom, "source (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, fileKeyRef)")...)
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			errs = append(errs, keyRef(vp.Child("secretKeyRef"), r.Name, r.Key)...)
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			errs = append(errs, keyRef(vp.Child("configMapKeyRef"), r.Name, r.Key)...)
		}
	}
	return errs
}

func keyRef(p *field.Path, name, key string) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "the Secret or ConfigMap name is required"))
	} else {
		errs = append(errs, invalid(p.Child("name"), name, validation.IsDNS1123Subdomain(name))...)
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), "the key is required"))
	} else {
		errs = append(errs, invalid(p.Child("key"), key, validation.IsConfigMapKey(key))...)
	}
	return errs
}

func validProtocol(p *field.Path, proto corev1.Protocol) field.ErrorList {
	switch proto {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, proto, []string{"TCP", "UDP", "SCTP"})}
}

// validateProbe: exactly one handler, valid (and, when named, declared) ports, non-negative
// timings, successThreshold 1 for liveness and startup probes.
func validateProbe(probe *corev1.Probe, p *field.Path, mustSucceedOnce bool, portNames map[string]bool) field.ErrorList {
	if probe == nil {
		return nil
	}
	errs := exactlyOne(p, probe.ProbeHandler, "handler type (exec, httpGet, tcpSocket, grpc)")
	port := func(pp *field.Path, v intstr.IntOrString) {
		if v.Type == intstr.String {
			errs = append(errs, invalid(pp, v.StrVal, validation.IsValidPortName(v.StrVal))...)
			if !portNames[v.StrVal] {
				errs = append(errs, field.Invalid(pp, v.StrVal, "names no port of this container"))
			}
		} else {
			errs = append(errs, invalid(pp, v.IntVal, validation.IsValidPortNum(int(v.IntVal)))...)
		}
	}
	if h := probe.HTTPGet; h != nil {
		port(p.Child("httpGet", "port"), h.Port)
		switch h.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			errs = append(errs, field.NotSupported(p.Child("httpGet", "scheme"), h.Scheme, []string{"HTTP", "HTTPS"}))
		}
		for i, hd := range h.HTTPHeaders {
			errs = append(errs, invalid(p.Child("httpGet", "httpHeaders").Index(i).Child("name"), hd.Name, validation.IsHTTPHeaderName(hd.Name))...)
		}
	}
	if t := probe.TCPSocket; t != nil {
		port(p.Child("tcpSocket", "port"), t.Port)
	}
	if g := probe.GRPC; g != nil {
		errs = append(errs, invalid(p.Child("grpc", "port"), g.Port, validation.IsValidPortNum(int(g.Port)))...)
	}
	for _, t := range []struct {
		name  string
		value int32
	}{{"initialDelaySeconds", probe.InitialDelaySeconds}, {"timeoutSeconds", probe.TimeoutSeconds}, {"periodSeconds", probe.PeriodSeconds}, {"successThreshold", probe.SuccessThreshold}, {"failureThreshold", probe.FailureThreshold}} {
		if t.value < 0 {
			errs = append(errs, field.Invalid(p.Child(t.name), t.value, "must be greater than or equal to 0"))
		}
	}
	if mustSucceedOnce && probe.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), probe.SuccessThreshold, "must be 1 for liveness and startup probes"))
	}
	if g := probe.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

// validateResources: standard or qualified resource names, non-negative quantities (their syntax
// was checked by decoding: resource.Quantity refuses what ParseQuantity refuses), requests <= limits.
func validateResources(r corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(list corev1.ResourceList, lp *field.Path) {
		for _, name := range sortedNames(list) {
			k, q := string(name), list[name]
			standard := k == "cpu" || k == "memory" || k == "ephemeral-storage" || strings.HasPrefix(k, "hugepages-")
			if !standard && !strings.Contains(k, "/") {
				errs = append(errs, field.Invalid(lp.Key(k), k, "not a standard resource (cpu, memory, ephemeral-storage, hugepages-*) nor a domain-qualified extended resource"))
			} else if !standard {
				errs = append(errs, invalid(lp.Key(k), k, validation.IsQualifiedName(k))...)
			}
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(lp.Key(k), q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	check(r.Requests, p.Child("requests"))
	check(r.Limits, p.Child("limits"))
	for _, name := range sortedNames(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(p.Child("requests").Key(string(name)), req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func sortedNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for k := range list {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

func validateService(s *corev1.Service) field.ErrorList {
	errs := objectMeta(s.ObjectMeta, apivalidation.NameIsDNS1035Label)
	spec := field.NewPath("spec")
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(spec.Child("type"), s.Spec.Type, []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
	}
	if ip := s.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		errs = append(errs, validation.IsValidIP(spec.Child("clusterIP"), ip)...)
	}
	if len(s.Spec.Ports) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(spec.Child("ports"), "a Service needs at least one port"))
	}
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := spec.Child("ports").Index(i)
		if len(s.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), "each port of a multi-port Service needs a name"))
		}
		if port.Name != "" {
			errs = append(errs, invalid(pp.Child("name"), port.Name, validation.IsDNS1123Label(port.Name))...)
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		errs = append(errs, invalid(pp.Child("port"), port.Port, validation.IsValidPortNum(int(port.Port)))...)
		errs = append(errs, validProtocol(pp.Child("protocol"), port.Protocol)...)
		switch t := port.TargetPort; {
		case t.Type == intstr.String:
			errs = append(errs, invalid(pp.Child("targetPort"), t.StrVal, validation.IsValidPortName(t.StrVal))...)
		case t.IntVal != 0:
			errs = append(errs, invalid(pp.Child("targetPort"), t.IntVal, validation.IsValidPortNum(int(t.IntVal)))...)
		}
	}
	return append(errs, metavalidation.ValidateLabels(s.Spec.Selector, spec.Child("selector"))...)
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	errs := objectMeta(s.ObjectMeta, apivalidation.NameIsDNSSubdomain)
	for _, k := range sortedKeys(s.Data) {
		errs = append(errs, invalid(field.NewPath("data").Key(k), k, validation.IsConfigMapKey(k))...)
	}
	for _, k := range sortedKeys(s.StringData) {
		errs = append(errs, invalid(field.NewPath("stringData").Key(k), k, validation.IsConfigMapKey(k))...)
	}
	if len(s.Data)+len(s.StringData) == 0 {
		errs = append(errs, field.Required(field.NewPath("stringData"), "the Secret documents no key"))
	}
	return errs
}

func validateConfigMap(c *corev1.ConfigMap) field.ErrorList {
	errs := objectMeta(c.ObjectMeta, apivalidation.NameIsDNSSubdomain)
	for _, k := range sortedKeys(c.Data) {
		errs = append(errs, invalid(field.NewPath("data").Key(k), k, validation.IsConfigMapKey(k))...)
		if _, dup := c.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of a key in binaryData"))
		}
	}
	for _, k := range sortedKeys(c.BinaryData) {
		errs = append(errs, invalid(field.NewPath("binaryData").Key(k), k, validation.IsConfigMapKey(k))...)
	}
	return errs
}

func validatePodDisruptionBudget(b *policyv1.PodDisruptionBudget) field.ErrorList {
	errs := objectMeta(b.ObjectMeta, apivalidation.NameIsDNSSubdomain)
	spec := field.NewPath("spec")
	if (b.Spec.MinAvailable == nil) == (b.Spec.MaxUnavailable == nil) {
		errs = append(errs, field.Invalid(spec, "", "must specify exactly one of minAvailable and maxUnavailable"))
	}
	for _, f := range []struct {
		name  string
		value *intstr.IntOrString
	}{{"minAvailable", b.Spec.MinAvailable}, {"maxUnavailable", b.Spec.MaxUnavailable}} {
		switch v := f.value; {
		case v == nil:
		case v.Type == intstr.String:
			errs = append(errs, invalid(spec.Child(f.name), v.StrVal, validation.IsValidPercent(v.StrVal))...)
		case v.IntVal < 0:
			errs = append(errs, field.Invalid(spec.Child(f.name), v.IntVal, "must be greater than or equal to 0"))
		}
	}
	if b.Spec.Selector == nil || (len(b.Spec.Selector.MatchLabels) == 0 && len(b.Spec.Selector.MatchExpressions) == 0) {
		errs = append(errs, field.Required(spec.Child("selector"), "an empty selector selects every pod of the namespace"))
	}
	return append(errs, metavalidation.ValidateLabelSelector(b.Spec.Selector, metavalidation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
