package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// The inputs under testdata/bundled are `helm template gl testdata/charts/<chart> -n ns` (Helm 3.22) of
// the GitLab chart fixtures; gitlab-9.9.1-custom-secret.yaml adds
// --set global.runner.registrationToken.secret=ci-runner-token, and runner-0.86.0-external-secret.yaml
// is the gitlab-runner-0.86.0 chart with -f testdata/values/external-secret.yaml
// --set runners.secret=gl-gitlab-runner-secret.

func readBundled(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bundled", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dropDocs removes the documents whose text matches, as if the chart had not rendered them.
func dropDocs(data []byte, match string) []byte {
	var out []byte
	for _, d := range split(data) {
		if !bytes.Contains(d.raw, []byte(match)) {
			out = append(out, d.raw...)
		}
	}
	return out
}

var testNames = func(site *Site) RunnerName {
	m := "[runner-migrate " + site.Workload.Namespace + "/" + site.Release + " " + site.Spec.Fingerprint() + "]"
	return RunnerName{Description: site.Workload.Name + " " + m, Marker: m}
}

// mintStream runs what the post-renderer runs for the bundled runner in mode.
func mintStream(data []byte, mode BundledMode) (*Stream, []byte, error) {
	s, err := Read(data)
	if err != nil {
		return nil, nil, err
	}
	setMode := FilterFunc(func(s *Stream) error {
		for _, site := range s.Sites {
			if site.Bundled != nil {
				site.Bundled.Mode = mode
			}
		}
		return nil
	})
	if err := (Pipeline{Detect{}, RecogniseBundled{}, setMode, MintTokens{Name: testNames}, Patches}).Filter(s); err != nil {
		return s, nil, err
	}
	out, err := s.Bytes()
	return s, out, err
}

func TestRecogniseBundled(t *testing.T) {
	gitlab := readBundled(t, "gitlab-9.9.1.yaml")
	custom := readBundled(t, "gitlab-9.9.1-custom-secret.yaml")
	tests := []struct {
		name       string
		in         []byte
		bundled    bool
		secret     string
		hasToolbox bool
	}{
		{"GitLab chart 9.9.1 (runner 0.86)", gitlab, true, "gl-gitlab-runner-secret", true},
		{"GitLab chart 8.6.2 (runner 0.71)", readBundled(t, "gitlab-8.6.2.yaml"), true, "gl-gitlab-runner-secret", true},
		{"global.runner.registrationToken.secret, named by the migrations Job", custom, true, "ci-runner-token", true},
		{"custom Secret name without the migrations Job", dropDocs(custom, "app: migrations"), false, "ci-runner-token", false},
		{"default name, only the migrations Job", dropDocs(dropDocs(gitlab, "name: gl-toolbox"), "name: gl-webservice-default"), true, "gl-gitlab-runner-secret", false},
		{"no GitLab chart component in the stream", dropDocs(dropDocs(dropDocs(gitlab, "name: gl-toolbox"), "name: gl-webservice-default"), "app: migrations"), false, "gl-gitlab-runner-secret", false},
		{"the runner chart on its own, runners.secret named like the GitLab chart's", readBundled(t, "runner-0.86.0-external-secret.yaml"), false, "gl-gitlab-runner-secret", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Read(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if err := (Pipeline{Detect{}, RecogniseBundled{}}).Filter(s); err != nil {
				t.Fatal(err)
			}
			if len(s.Sites) != 1 {
				t.Fatalf("found %d sites, want the one runner", len(s.Sites))
			}
			site := s.Sites[0]
			if site.SecretName != tc.secret {
				t.Errorf("secret %q, want %q", site.SecretName, tc.secret)
			}
			if (site.Bundled != nil) != tc.bundled {
				t.Fatalf("bundled = %v, want %v", site.Bundled != nil, tc.bundled)
			}
			if !tc.bundled {
				if site.State != TokenUnknown {
					t.Errorf("a runner with a Secret the stream does not show must stay %s, is %s", TokenUnknown, site.State)
				}
				return
			}
			if site.State != TokenLegacy {
				t.Errorf("the bundled runner's Secret holds a registration token; state is %s", site.State)
			}
			if (site.Bundled.Toolbox != nil) != tc.hasToolbox {
				t.Errorf("toolbox found = %v, want %v", site.Bundled.Toolbox != nil, tc.hasToolbox)
			}
		})
	}
}

// TestMintTokens: the mint path on both bundled runner generations: the objects it adds, the rights it
// grants, the Job built from the toolbox, the refused setting removed, the register script waiting.
func TestMintTokens(t *testing.T) {
	for _, chart := range []string{"gitlab-8.6.2", "gitlab-9.9.1"} {
		t.Run(chart, func(t *testing.T) {
			in := readBundled(t, chart+".yaml")
			s, out, err := mintStream(in, BundledMint)
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", "bundled", chart+".mint.yaml"), out)
			objs := map[string]*yaml.RNode{}
			nodes, err := kio.FromBytes(out)
			if err != nil {
				t.Fatalf("the output does not parse: %v", err)
			}
			for _, n := range nodes {
				objs[n.GetKind()+"/"+n.GetName()] = n
			}
			job := s.Sites[0].Workload.Name + "-mint"
			for _, want := range []string{"ServiceAccount/" + job, "Role/" + job, "RoleBinding/" + job} {
				if objs[want] == nil {
					t.Errorf("no %s in the output", want)
				}
			}
			var jobNode *yaml.RNode
			for k, n := range objs {
				if regexp.MustCompile(`^Job/gl-gitlab-runner-mint-[0-9a-f]{10}$`).MatchString(k) {
					jobNode = n
				}
			}
			if jobNode == nil {
				t.Fatal("no Job named gl-gitlab-runner-mint-<hash>")
			}
			if objs["ConfigMap/"+jobNode.GetName()] == nil {
				t.Error("no ConfigMap with the Job's scripts")
			}

			role := objs["Role/"+job].MustString()
			wantRules := `rules:
- apiGroups:
  - ""
  resources:
  - secrets
  resourceNames:
  - gl-gitlab-runner-secret
  verbs:
  - get
  - patch
- apiGroups:
  - apps
  resources:
  - deployments
  resourceNames:
  - gl-gitlab-runner
  verbs:
  - get
  - patch
`
			if !strings.HasSuffix(role, wantRules) {
				t.Errorf("the Role grants more or less than get/patch on the one Secret and Deployment:\n%s", role)
			}

			spec, _ := jobNode.Pipe(yaml.Lookup("spec"))
			for field, want := range map[string]string{"backoffLimit": "6", "activeDeadlineSeconds": "3600",
				"template.spec.serviceAccountName": job, "template.spec.restartPolicy": "Never", "template.spec.automountServiceAccountToken": "true"} {
				n, _ := spec.Pipe(yaml.Lookup(strings.Split(field, ".")...))
				if got := strings.TrimSpace(n.MustString()); got != want {
					t.Errorf("Job spec.%s = %q, want %q", field, got, want)
				}
			}
			containers, _ := spec.Pipe(yaml.Lookup("template", "spec", "containers"))
			if len(containers.Content()) != 1 {
				t.Fatalf("the Job has %d containers, want 1", len(containers.Content()))
			}
			c := yaml.NewRNode(containers.Content()[0])
			image, _ := c.Pipe(yaml.Lookup("image"))
			if !strings.Contains(image.MustString(), "gitlab-toolbox-ee") {
				t.Errorf("the Job does not run the toolbox image: %s", image.MustString())
			}
			text := c.MustString()
			for _, want := range []string{"CONFIG_TEMPLATE_DIRECTORY", "toolbox-secrets", "runAsNonRoot: true", "/runner-migrate/mint-runner.sh",
				"RUNNER_MIGRATE_MARKER", "[runner-migrate ns/gl rm-"} {
				if !strings.Contains(text, want) {
					t.Errorf("the Job's container lacks %q (the toolbox's env, mounts and security context, and the runner's name)", want)
				}
			}
			if strings.Contains(text, "command:") || strings.Contains(text, "sleep 3600") {
				t.Error("the Job must run its script through the image's entrypoint (args), not the toolbox's command")
			}
			inits, _ := spec.Pipe(yaml.Lookup("template", "spec", "initContainers"))
			if inits == nil || !strings.Contains(inits.MustString(), "/config/configure") {
				t.Error("the toolbox's init container, which assembles the Rails config, was lost")
			}

			if bytes.Contains(out, []byte(`REGISTER_LOCKED
              value: "false"`)) != (chart == "gitlab-9.9.1") {
				t.Errorf("REGISTER_LOCKED=\"false\" must go on runner chart 0.71 and stay on 0.86 (its script unsets it)")
			}
			if n := strings.Count(string(out), waitForTokenMarker); n != 1 {
				t.Errorf("the register script carries the wait block %d times, want once", n)
			}

			_, again, err := mintStream(out, BundledMint)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("post-rendering the output again changed it (err %v)", err)
			}
		})
	}
}

// TestMintJobName: the Job's name follows its content, not the YAML formatting: Helm 4 hands the
// post-renderer a stream re-encoded by kyaml, and the release must get the same Job as with Helm 3.
func TestMintJobName(t *testing.T) {
	in := readBundled(t, "gitlab-9.9.1.yaml")
	nodes, err := kio.FromBytes(in)
	if err != nil {
		t.Fatal(err)
	}
	reformatted, err := kio.StringAll(nodes)
	if err != nil {
		t.Fatal(err)
	}
	jobName := regexp.MustCompile(`name: (gl-gitlab-runner-mint-[0-9a-f]{10})`)
	var names []string
	for _, data := range [][]byte{in, []byte(reformatted)} {
		_, out, err := mintStream(data, BundledMint)
		if err != nil {
			t.Fatal(err)
		}
		m := jobName.FindSubmatch(out)
		if m == nil {
			t.Fatal("no Job in the output")
		}
		names = append(names, string(m[1]))
	}
	if names[0] != names[1] {
		t.Errorf("the Job is %s for the Helm 3 stream and %s for the same content re-encoded", names[0], names[1])
	}

	_, changed, err := mintStream(bytes.Replace(in, []byte("gitlab-toolbox-ee:v18.9.1"), []byte("gitlab-toolbox-ee:v18.9.2"), 1), BundledMint)
	if err != nil {
		t.Fatal(err)
	}
	if m := jobName.FindSubmatch(changed); m == nil || string(m[1]) == names[0] {
		t.Error("a new toolbox image must make a new Job (a Job's pod template cannot change)")
	}
}

func TestMintTokensModes(t *testing.T) {
	in := readBundled(t, "gitlab-9.9.1.yaml")
	for _, mode := range []BundledMode{BundledSkip, BundledAPI} {
		_, out, err := mintStream(in, mode)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, in) {
			t.Errorf("mode %s without a token must leave the stream as it is", mode)
		}
	}

	s, err := Read(in)
	if err != nil {
		t.Fatal(err)
	}
	(Pipeline{Detect{}, RecogniseBundled{}}).Filter(s)
	s.Sites[0].Bundled.Mode = BundledMint
	s.Sites[0].AuthToken = token.New("glrt-given-by-the-user-0000")
	if err := (Pipeline{MintTokens{Name: testNames}, Patches}).Filter(s); err != nil {
		t.Fatal(err)
	}
	out, _ := s.Bytes()
	if bytes.Contains(out, []byte("kind: Job\nmetadata:\n  name: gl-gitlab-runner-mint")) || !bytes.Contains(out, []byte("gl-gitlab-runner-auth-token")) {
		t.Error("a site that has a token is migrated to it, with no Job")
	}
}

func TestMintTokensErrors(t *testing.T) {
	gitlab := readBundled(t, "gitlab-9.9.1.yaml")
	tests := []struct {
		name string
		in   []byte
		want []string
	}{
		{"no toolbox", dropDocs(gitlab, "name: gl-toolbox\n"), []string{"Deployment ns/gl-gitlab-runner", "toolbox", "fix:", "--bundled-runner=api", "--bundled-runner=skip"}},
		{"no register script", dropDocs(gitlab, "register-the-runner: |"), []string{"Deployment ns/gl-gitlab-runner", "register script", "fix:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, out, err := mintStream(tc.in, BundledMint)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}
