package kube

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/internal/tokensource"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// TestRunnerSecret: migrate's live Secret is created with both keys, written again only when it
// changes (a dry run writes nothing), keeps what others added, and is found by Lookup as a record
// whose settings GitLab owns.
func TestRunnerSecret(t *testing.T) {
	ctx := context.Background()
	s, ns := newStore(t)
	rel := gitlab.Release{Namespace: ns, Name: "rel"}
	rec := gitlab.Record{RunnerID: 7, Token: token.New("glrt-migrated-1"), Fingerprint: "rm-00000000000a", GitLabURL: "https://gitlab.example.com"}
	name := rewrite.AddedSecretName("rel-gitlab-runner")

	if verb, err := s.WriteSecret(ctx, MigratedSecret(rel, name, rec), true); err != nil || verb != Created {
		t.Fatalf("dry run: %q, %v", verb, err)
	}
	if got, _ := s.Secret(ctx, ns, name); got != nil {
		t.Fatal("a dry run wrote the Secret")
	}
	if verb, err := s.WriteSecret(ctx, MigratedSecret(rel, name, rec), false); err != nil || verb != Created {
		t.Fatalf("first write: %q, %v", verb, err)
	}
	got, err := s.Secret(ctx, ns, name)
	if err != nil || got == nil {
		t.Fatalf("read back: %v", err)
	}
	if v, ok := got.Data[rewrite.KeyRegistrationToken]; !ok || len(v) != 0 || string(got.Data[rewrite.KeyRunnerToken]) != "glrt-migrated-1" {
		t.Fatalf("keys %v: want runner-token and an empty runner-registration-token", got.Data)
	}
	if got.Annotations[AnnotationSettingsOwner] != gitlab.SettingsOwnedByGitLab || got.Annotations[rewrite.AnnotationRunnerID] != "7" {
		t.Fatalf("annotations %v", got.Annotations)
	}
	// The pod reads it: rotate and prune must take it for a live Secret of the release, not a token Secret.
	if rs := runnerSecret(got); rs == nil || rs.TokenSecret || rs.Release != rel || rs.RunnerID != 7 {
		t.Fatalf("read as %+v, want the live Secret of release %s", rs, rel)
	}
	got.Annotations["team.example/owner"] = "ci"
	if err := s.Client.updateSecret(ctx, got); err != nil {
		t.Fatal(err)
	}
	if verb, err := s.WriteSecret(ctx, MigratedSecret(rel, name, rec), false); err != nil || verb != Unchanged {
		t.Fatalf("second write: %q, %v", verb, err)
	}
	rec.Token = token.New("glrt-migrated-2")
	if verb, err := s.WriteSecret(ctx, MigratedSecret(rel, name, rec), false); err != nil || verb != Updated {
		t.Fatalf("token change: %q, %v", verb, err)
	}
	got, _ = s.Secret(ctx, ns, name)
	if string(got.Data[rewrite.KeyRunnerToken]) != "glrt-migrated-2" || got.Annotations["team.example/owner"] != "ci" {
		t.Fatalf("after the update: %v %v", got.Data, got.Annotations)
	}

	// A runner whose pod reads it (a values-derived site of the same workload) finds the record.
	req := tokensource.Request{Spec: rewrite.Spec{URL: "https://gitlab.example.com"}, Sites: []*rewrite.Site{{
		Workload: &rewrite.Object{Ref: rewrite.Ref{Kind: "Deployment", Namespace: ns, Name: "rel-gitlab-runner"}},
		Carrier:  rewrite.CarrierExternalSecret, SecretName: "legacy"}}}
	found, ok, err := s.Lookup(ctx, req, rel)
	if err != nil || !ok || found.RunnerID != 7 || found.SettingsOwner != gitlab.SettingsOwnedByGitLab {
		t.Fatalf("Lookup = %+v, %v, %v", found, ok, err)
	}
}

// TestHelmRecords lists both storage drivers' objects by label, in one namespace and in all, and
// leaves out Secrets of another type that carry the same labels.
func TestHelmRecords(t *testing.T) {
	ctx := context.Background()
	s, ns := newStore(t)
	labels := func(name string) map[string]string {
		return map[string]string{"owner": "helm", "name": name, "status": "deployed", "version": "1"}
	}
	putSecret(t, s, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.a.v1", Namespace: ns, Labels: labels("a")},
		Type: HelmStorageType, Data: map[string][]byte{"release": []byte("payload-a")}})
	putSecret(t, s, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "not-helm", Namespace: ns, Labels: labels("x")},
		Data: map[string][]byte{"release": []byte("x")}})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.b.v1", Namespace: ns, Labels: labels("b")},
		Data: map[string]string{"release": "payload-b"}}
	if err := s.Client.core.Post().Namespace(ns).Resource("configmaps").Body(cm).Do(ctx).Error(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client.HelmRecords(ctx, ns, "")
	if err != nil || len(got) != 2 {
		t.Fatalf("HelmRecords = %+v, %v; want a Secret and a ConfigMap", got, err)
	}
	if got[0].Driver != "Secret" || string(got[0].Payload) != "payload-a" || got[1].Driver != "ConfigMap" || string(got[1].Payload) != "payload-b" {
		t.Fatalf("records %+v", got)
	}
	one, err := s.Client.HelmRecords(ctx, ns, "name=b")
	if err != nil || len(one) != 1 || one[0].Name != "sh.helm.release.v1.b.v1" {
		t.Fatalf("by name: %+v, %v", one, err)
	}
	all, err := s.Client.HelmRecords(ctx, "", "name=a")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range all {
		found = found || (r.Namespace == ns && r.Name == "sh.helm.release.v1.a.v1")
	}
	if !found {
		t.Fatalf("all namespaces: %+v", all)
	}
}
