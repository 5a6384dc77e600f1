// kube126 reads rendered manifests (multi-document YAML on stdin) and decodes each object
// strictly into the Kubernetes 1.26 API types (k8s.io/api, k8s.io/apiextensions-apiserver at
// v0.26): an apiVersion/kind 1.26 does not serve, or a field 1.26 does not know, is an error.
// Objects of a kind that a CustomResourceDefinition in the same input serves count as served
// (their CRD is checked); kinds outside Kubernetes itself (named with -skip-group) are listed as
// not checked.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	sigsyaml "sigs.k8s.io/yaml"
)

func main() {
	skip := flag.String("skip-group", "", "comma-separated API groups that are not Kubernetes' own (not checked)")
	flag.Parse()
	skipped := map[string]bool{}
	for _, g := range strings.Split(*skip, ",") {
		if g != "" {
			skipped[g] = true
		}
	}

	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		fail(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		fail(err)
	}
	strict := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()

	var objects []unstructured.Unstructured
	var documents [][]byte
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fail(err)
		}
		json, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			fail(err)
		}
		if strings.TrimSpace(string(json)) == "null" {
			continue
		}
		var object unstructured.Unstructured
		if err := object.UnmarshalJSON(json); err != nil {
			fail(err)
		}
		objects = append(objects, object)
		documents = append(documents, json)
	}

	// What the input's own CRDs serve: group, served version, kind.
	custom := map[string]bool{}
	for _, object := range objects {
		if object.GroupVersionKind() != apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition") {
			continue
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(object.Object, &crd); err != nil {
			fail(err)
		}
		for _, version := range crd.Spec.Versions {
			if version.Served {
				custom[crd.Spec.Group+"/"+version.Name+"/"+crd.Spec.Names.Kind] = true
			}
		}
	}

	problems := 0
	for i, object := range objects {
		gvk := object.GroupVersionKind()
		name := fmt.Sprintf("%s %s/%s", gvk.Kind, object.GetNamespace(), object.GetName())
		switch {
		case skipped[gvk.Group]:
			fmt.Printf("not checked (not a Kubernetes API): %s %s\n", gvk.GroupVersion(), name)
		case custom[gvk.Group+"/"+gvk.Version+"/"+gvk.Kind]:
			fmt.Printf("served by a CRD above: %s %s\n", gvk.GroupVersion(), name)
		case !s.Recognizes(gvk):
			fmt.Printf("NOT SERVED by Kubernetes 1.26: %s %s\n", gvk.GroupVersion(), name)
			problems++
		default:
			if _, _, err := strict.Decode(documents[i], nil, nil); err != nil {
				fmt.Printf("INVALID for Kubernetes 1.26: %s: %v\n", name, err)
				problems++
			} else {
				fmt.Printf("ok: %s %s\n", gvk.GroupVersion(), name)
			}
		}
	}
	if problems > 0 {
		fmt.Printf("%d object(s) need an API newer than 1.26\n", problems)
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kube126:", err)
	os.Exit(2)
}
