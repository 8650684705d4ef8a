package kube

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443"}}
- {name: b, cluster: {server: "https://b.example:6443"}}
users:
- {name: u, user: {token: not-a-real-token}}
contexts:
- {name: a, context: {cluster: a, user: u, namespace: team-a}}
- {name: b, context: {cluster: b, user: u, namespace: team-b}}
current-context: a
`

// TestResolveFollowsLayers: runner-migrate's flags win over Helm's command line, which wins over
// HELM_* variables, which win over the kubeconfig's current context; each choice is reported.
func TestResolveFollowsLayers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", path)
	own := func(s Settings) Layer { return Layer{Name: "flags", Settings: s} }
	helm := func(s Settings) Layer { return Layer{Name: "helm", Settings: s} }
	tests := []struct {
		name                         string
		layers                       []Layer
		host, namespace, from, nsSrc string
		current                      bool
	}{
		{"current context", nil, "https://a.example:6443", "team-a", "the current kube context", "kube context a", true},
		{"helm's --kube-context", []Layer{own(Settings{}), helm(Settings{Context: "b"})}, "https://b.example:6443", "team-b", "helm", "kube context b", false},
		{"own flag wins", []Layer{own(Settings{Context: "a"}), helm(Settings{Context: "b", Namespace: "ci"})}, "https://a.example:6443", "ci", "flags", "helm", false},
		{"explicit server", []Layer{helm(Settings{APIServer: "https://c.example:6443"})}, "https://c.example:6443", "team-a", "helm", "kube context a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := Resolve(tt.layers...)
			if err != nil {
				t.Fatal(err)
			}
			if target.Config.Host != tt.host || target.Namespace != tt.namespace || target.ClusterSource != tt.from ||
				target.NamespaceSource != tt.nsSrc || target.FromCurrentContext != tt.current {
				t.Errorf("got %s %s from %q (ns from %q, current %v)", target.Config.Host, target.Namespace, target.ClusterSource, target.NamespaceSource, target.FromCurrentContext)
			}
		})
	}
	if _, err := Resolve(Layer{Name: "x", Settings: Settings{Context: "missing"}}); err == nil {
		t.Error("an unknown context must be an error")
	}
}

func TestNoCluster(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := Resolve(); !errors.Is(err, ErrNoCluster) {
		t.Fatalf("want ErrNoCluster, got %v", err)
	}
}

// request builds the token request of two workloads sharing a spec, with token Secrets a-secret and
// b-secret.
func request(t *testing.T) tokensource.Request {
	t.Helper()
	manifest := `kind: Deployment
metadata: {name: a}
spec: {template: {spec: {containers: [{name: r, command: [/configmaps/entrypoint]}], volumes: [{name: s, projected: {sources: [{secret: {name: a-secret, items: [{key: runner-token, path: runner-token}]}}]}}]}}}
---
kind: Deployment
metadata: {name: b}
spec: {template: {spec: {containers: [{name: r, command: [/configmaps/entrypoint]}], volumes: [{name: s, projected: {sources: [{secret: {name: b-secret, items: [{key: runner-token, path: runner-token}]}}]}}]}}}
`
	s, err := rewrite.Read([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if err := (rewrite.Detect{}).Filter(s); err != nil || len(s.Sites) != 2 {
		t.Fatalf("detect: %v, %d sites", err, len(s.Sites))
	}
	return tokensource.Request{Spec: rewrite.Spec{URL: "https://gitlab.example.com", Tags: []string{"a"}}, Sites: s.Sites}
}

func newStore(t *testing.T) (*Store, string) {
	t.Helper()
	cluster, ns := testenv.Cluster(t)
	client, err := NewClient(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &Store{Client: client, Namespace: ns, Holder: "test-" + t.Name(), LeaseDuration: 2 * time.Second}, ns
}

func putSecret(t *testing.T, s *Store, sec *corev1.Secret) {
	t.Helper()
	if err := s.Client.createSecret(context.Background(), sec); err != nil {
		t.Fatal(err)
	}
}

// TestStoreKeepsTokens: Save writes the token Secret (once; an unchanged save writes nothing), Lookup
// prefers it over the live Secret, follows a live Secret of the workload's former spec, ignores a dry
// run's placeholder, and the place is the cluster's kube-system UID.
func TestStoreKeepsTokens(t *testing.T) {
	ctx := context.Background()
	s, ns := newStore(t)
	req := request(t)
	rel := gitlab.Release{Namespace: ns, Name: "rel"}

	// b's live Secret holds a token of the workload's former spec; that spec's token Secret is newer.
	putSecret(t, s, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "b-auth-token", Namespace: ns, Annotations: map[string]string{
		rewrite.AnnotationRunnerID: "42", rewrite.AnnotationFingerprint: "rm-000000000001"}},
		Data: map[string][]byte{rewrite.KeyRunnerToken: []byte("glrt-live-old")}})
	putSecret(t, s, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: TokenSecretName("rel", "rm-000000000001"), Namespace: ns, Annotations: map[string]string{
		rewrite.AnnotationRunnerID: "42", rewrite.AnnotationFingerprint: "rm-000000000001", AnnotationGitLabURL: "https://gitlab.example.com"}},
		Data: map[string][]byte{rewrite.KeyRunnerToken: []byte("glrt-kept-newer")}})
	rec, ok, err := s.Lookup(ctx, req, rel)
	if err != nil || !ok || rec.RunnerID != 42 || rec.Token.Reveal() != "glrt-kept-newer" || rec.GitLabURL != "https://gitlab.example.com" {
		t.Fatalf("Lookup = %+v, %v, %v; want runner 42 with the kept token", rec, ok, err)
	}

	rec.Fingerprint, rec.Supersedes = req.Fingerprint(), "rm-000000000001"
	if err := s.Save(ctx, req, rel, rec); err != nil {
		t.Fatal(err)
	}
	kept, err := s.Client.getSecret(ctx, ns, TokenSecretName("rel", req.Fingerprint()))
	if err != nil || string(kept.Data[rewrite.KeyRunnerToken]) != "glrt-kept-newer" || kept.Annotations[rewrite.AnnotationRunnerID] != "42" ||
		kept.Labels[LabelManagedBy] != ManagedBy {
		t.Fatalf("token Secret %+v: %v", kept.ObjectMeta, err)
	}
	if old, _ := s.get(ctx, ns, TokenSecretName("rel", "rm-000000000001")); old != nil {
		t.Fatal("the token Secret of the former spec was kept")
	}
	version := kept.ResourceVersion
	if err := s.Save(ctx, req, rel, rec); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Client.getSecret(ctx, ns, kept.Name); again.ResourceVersion != version {
		t.Fatal("an unchanged Save wrote the Secret again")
	}

	// A deployed dry run left a placeholder: it is never a runner's token.
	kept.Data[rewrite.KeyRunnerToken] = []byte(token.Placeholder(req.Fingerprint()).Reveal())
	if err := s.Client.updateSecret(ctx, kept); err != nil {
		t.Fatal(err)
	}
	var warned []string
	s.Warn = func(m string) { warned = append(warned, m) }
	if rec, ok, _ := s.Lookup(ctx, req, rel); ok && rec.Token.IsPlaceholder() {
		t.Fatal("a placeholder was taken for a token")
	}
	if len(warned) == 0 || !strings.Contains(warned[0], "placeholder") {
		t.Fatalf("want a warning about the placeholder, got %v", warned)
	}

	place, err := s.Place(ctx)
	system, _ := s.Client.getNamespace(ctx, "kube-system")
	if err != nil || place != "k8s-"+shortUID(string(system.UID)) {
		t.Fatalf("place %q (%v)", place, err)
	}
}

// TestLeaseSerialises: a second holder waits while the first holds the Lease, goes on once it is
// released, and takes over a Lease its holder stopped renewing (a killed run) after its duration.
func TestLeaseSerialises(t *testing.T) {
	ctx := context.Background()
	s, ns := newStore(t)
	rel := gitlab.Release{Namespace: ns, Name: "rel"}
	other := &Store{Client: s.Client, Namespace: ns, Holder: "other", LeaseDuration: s.LeaseDuration}

	unlock, err := s.Lock(ctx, rel, "rm-0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := other.Lock(ctx, rel, "rm-0123456789ab")
		if err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		order = append(order, "second")
		mu.Unlock()
		u()
	}()
	time.Sleep(3 * s.LeaseDuration) // longer than the duration: renewals keep the Lease held
	mu.Lock()
	order = append(order, "first")
	mu.Unlock()
	unlock()
	<-done
	if strings.Join(order, ",") != "first,second" {
		t.Fatalf("order %v: the second holder did not wait", order)
	}

	// A holder that dies keeps nothing: take the Lease and never renew or release it.
	dead := &Store{Client: s.Client, Namespace: ns, Holder: "dead", LeaseDuration: s.LeaseDuration}
	if _, err := dead.acquire(ctx, ns, TokenSecretName("rel", "rm-0123456789ab"), s.LeaseDuration); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	u, err := other.Lock(ctx, rel, "rm-0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	u()
	if waited := time.Since(start); waited > s.LeaseDuration+2*time.Second {
		t.Fatalf("waited %v for a dead holder's Lease of %v", waited, s.LeaseDuration)
	}
}
