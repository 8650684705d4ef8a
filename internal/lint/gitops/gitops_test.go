package gitops

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/lint/values"
)

func at(v *values.Values) string {
	if v == nil {
		return "absent"
	}
	line, col := v.Position()
	return fmt.Sprintf("%d:%d", line, col)
}

const app = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: ci, namespace: argocd}
spec:
  source:
    chart: gitlab-runner
    helm:
      values: %s
`

// The positions of values written as a string: in a literal block (with and without an indentation
// indicator), on one line, quoted or not; a folded string puts them all on its key.
func TestValuesStringPositions(t *testing.T) {
	tests := []struct{ values, want string }{
		{"|\n        gitlabUrl: x\n        runnerToken: y", "10:9"},
		{"|2\n          gitlabUrl: x\n          runnerToken: y", "10:11"}, // the indicator counts from the key's indentation (6+2)
		{"|-\n\n        runnerToken: y", "10:9"},
		{"\"runnerToken: y\"", "8:16"},
		{"'runnerToken: y'", "8:16"},
		{">\n        runnerToken: y", "8:7"},
	}
	for _, tt := range tests {
		rels, err := Read("app.yaml", []byte(fmt.Sprintf(app, tt.values)))
		if err != nil || len(rels) != 1 || len(rels[0].Layers) != 1 {
			t.Fatalf("%q: %v %+v", tt.values, err, rels)
		}
		if got := at(rels[0].Layers[0].Field("runnerToken")); got != tt.want {
			t.Errorf("%q: runnerToken at %s, want %s", tt.values, got, tt.want)
		}
	}
}

func TestRead(t *testing.T) {
	stream := `apiVersion: v1
kind: ConfigMap
metadata: {name: other}
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: runners, namespace: argocd}
spec:
  template:
    spec:
      source:
        repoURL: https://gitlab.example.com/ci/deploy.git
        path: charts/gitlab-runner
        helm:
          values: |
            runnerToken: {{ .token }}-{{ .suffix }}
          parameters:
            - name: runners.tags
              value: docker
            - name: podAnnotations.example\.com/team
              value: ci
            - name: runners.locked
              value: "false"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: runner, namespace: ci}
spec:
  chartRef: {kind: OCIRepository, name: gitlab-runner}
  valuesFrom:
    - {kind: Secret, name: runner-token, valuesKey: values.yaml}
`
	rels, err := Read("s.yaml", []byte(stream))
	if err != nil || len(rels) != 2 {
		t.Fatalf("%v, %+v", err, rels)
	}
	set := rels[0]
	if set.Object != "ApplicationSet argocd/runners" || set.Source != "spec.template.spec.source.helm" || set.Chart != "charts/gitlab-runner" || !set.ChartByName || set.Line != 13 {
		t.Errorf("ApplicationSet release %+v", set)
	}
	if len(set.Unread) != 1 || !strings.Contains(set.Unread[0].What, "template") || set.Unread[0].Line != 15 {
		t.Errorf("a template's values with expressions are unread, not an error: %+v", set.Unread)
	}
	params := set.Layers[0]
	if at(params.Lookup("runners", "tags")) != "18:21" || params.Lookup("podAnnotations", "example.com/team").String() != "ci" {
		t.Errorf("parameters: tags at %s", at(params.Lookup("runners", "tags")))
	}
	if b, ok := params.Lookup("runners", "locked").Bool(); !ok || b {
		t.Errorf("a parameter \"false\" is read as --set reads it: false")
	}
	flux := rels[1]
	if flux.Object != "HelmRelease ci/runner" || flux.Chart != "gitlab-runner" || !flux.ChartByName || len(flux.Layers) != 0 ||
		len(flux.Unread) != 1 || flux.Unread[0].What != `valuesFrom Secret "runner-token" (key "values.yaml")` || flux.Unread[0].Line != 31 {
		t.Errorf("HelmRelease %+v", flux)
	}
}

// Values that do not parse are an error at their line in the manifest; other releases still count.
func TestBrokenValues(t *testing.T) {
	stream := fmt.Sprintf(app, "|\n        gitlabUrl: x\n        runners: [\n") + "---\n" + fmt.Sprintf(app, "'runnerToken: y'")
	rels, err := Read("app.yaml", []byte(stream))
	var pe *values.ParseError
	if !errors.As(err, &pe) || pe.File != "app.yaml" || pe.Line < 10 || pe.Line > 11 {
		t.Errorf("error %v, want app.yaml at the broken line", err)
	}
	if len(rels) != 2 || len(rels[1].Layers) != 1 {
		t.Errorf("the other release is still read: %+v", rels)
	}
}
