// k8s-validate: checks the project's Kubernetes manifests and Helm values against Kubernetes' own
// API types and validators (k8s.io/api, k8s.io/apimachinery), so a manifest the API server would
// refuse, or a Helm value the chart would render into garbage, fails the test suite.
//
//	go run . [--helm-values FILE]... [MANIFEST.yaml]...
//	go run . --render-helm-values FILE
//
// Each manifest document is decoded strictly (unknown or duplicate fields are errors) into the Go
// type its apiVersion/kind names, then validated: object names, labels and selectors, env var
// names and sources, port names and numbers, probe and lifecycle handlers, resource quantities,
// volume mounts, Service ports. A Helm values file is first turned into the Deployment that the
// official centrifugo chart renders from it (helm.go), then validated the same way.
//
// Prints one line per problem, "FILE: OBJECT: FIELD: PROBLEM", and exits 1 if there is any;
// prints a one-line summary and exits 0 otherwise; exits 2 on a usage error. With
// --render-helm-values it prints the ConfigMap and Deployment the chart renders from FILE as YAML
// (problems go to stderr, exit 1), so tests can hold the rendered pod to the binary.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// problem is one finding, printed as "file: object: detail".
type problem struct {
	file, object, detail string
}

func (p problem) String() string {
	if p.object == "" {
		return fmt.Sprintf("%s: %s", p.file, p.detail)
	}
	return fmt.Sprintf("%s: %s: %s", p.file, p.object, p.detail)
}

type report struct {
	problems []problem
	objects  int
}

func (r *report) add(file, object string, errs field.ErrorList) {
	for _, e := range errs {
		r.problems = append(r.problems, problem{file, object, e.Error()})
	}
}

func (r *report) addf(file, object, format string, args ...any) {
	r.problems = append(r.problems, problem{file, object, fmt.Sprintf(format, args...)})
}

func main() {
	const usage = "usage: k8s-validate [--helm-values FILE]... [MANIFEST.yaml]...\n       k8s-validate --render-helm-values FILE"
	var manifests, values []string
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "--render-helm-values" {
		r := &report{}
		printHelmRender(r, args[1])
		for _, p := range r.problems {
			fmt.Fprintln(os.Stderr, p)
		}
		if len(r.problems) > 0 {
			os.Exit(1)
		}
		return
	}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--helm-values" && i+1 < len(args):
			values = append(values, args[i+1])
			i++
		case strings.HasPrefix(a, "--helm-values="):
			values = append(values, strings.TrimPrefix(a, "--helm-values="))
		case strings.HasPrefix(a, "-"):
			fmt.Fprintf(os.Stderr, "k8s-validate: unknown flag %q\n%s\n", a, usage)
			os.Exit(2)
		default:
			manifests = append(manifests, a)
		}
	}
	if len(manifests)+len(values) == 0 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	r := &report{}
	for _, f := range manifests {
		checkManifestFile(r, f)
	}
	for _, f := range values {
		checkHelmValuesFile(r, f)
	}
	for _, p := range r.problems {
		fmt.Println(p)
	}
	if len(r.problems) > 0 {
		fmt.Fprintf(os.Stderr, "k8s-validate: %d problem(s)\n", len(r.problems))
		os.Exit(1)
	}
	fmt.Printf("k8s-validate: ok, %d object(s) in %d file(s)\n", r.objects, len(manifests)+len(values))
}

// yamlDocuments splits a multi-document YAML file, skipping empty documents (comments only).
func yamlDocuments(data []byte) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, doc)
		}
	}
}

func checkManifestFile(r *report, file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		r.addf(file, "", "cannot read: %v", err)
		return
	}
	docs, err := yamlDocuments(data)
	if err != nil {
		r.addf(file, "", "not YAML: %v", err)
		return
	}
	if len(docs) == 0 {
		r.addf(file, "", "no Kubernetes object in the file")
	}
	for i, doc := range docs {
		checkObject(r, file, i+1, doc)
	}
}

// checkObject decodes one document strictly into the type its apiVersion/kind names, then runs
// that kind's validation.
func checkObject(r *report, file string, index int, doc []byte) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		r.addf(file, fmt.Sprintf("document %d", index), "not a Kubernetes object: %v", err)
		return
	}
	object := fmt.Sprintf("%s %q (document %d)", head.Kind, head.Metadata.Name, index)
	strict := func(into any) bool {
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			r.addf(file, object, "strict decoding into %s/%s: %v", head.APIVersion, head.Kind, err)
			return false
		}
		r.objects++
		return true
	}
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		var o appsv1.Deployment
		if strict(&o) {
			r.add(file, object, validateDeployment(&o))
		}
	case "v1 Service":
		var o corev1.Service
		if strict(&o) {
			r.add(file, object, validateService(&o))
		}
	case "v1 Secret":
		var o corev1.Secret
		if strict(&o) {
			r.add(file, object, validateSecret(&o))
		}
	case "v1 ConfigMap":
		var o corev1.ConfigMap
		if strict(&o) {
			r.add(file, object, validateConfigMap(&o))
		}
	case "policy/v1 PodDisruptionBudget":
		var o policyv1.PodDisruptionBudget
		if strict(&o) {
			r.add(file, object, validatePodDisruptionBudget(&o))
		}
	default:
		r.addf(file, object, "apiVersion %q kind %q is not one this validator knows (apps/v1 Deployment, v1 Service, v1 Secret, v1 ConfigMap, policy/v1 PodDisruptionBudget): add it to deploy/validate", head.APIVersion, head.Kind)
	}
}
