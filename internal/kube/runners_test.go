package kube

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlab"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

// TestRunnerSecretsAndWorkloads: the Secrets naming a runner are found by their annotation (others,
// and a deployed dry run's placeholder, are not), with the release Helm or runner-migrate recorded;
// the workloads that read them are found through volumes and env; a new token goes into the live
// Secret with its annotations, and rolling a workload changes its pod template once.
func TestRunnerSecretsAndWorkloads(t *testing.T) {
	ctx := context.Background()
	cluster, ns := testenv.Cluster(t)
	c, err := NewClient(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cluster.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	secret := func(name string, labels, ann map[string]string, tok string) {
		t.Helper()
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: ann},
			Data: map[string][]byte{rewrite.KeyRunnerToken: []byte(tok), rewrite.KeyRegistrationToken: nil}}
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	live := map[string]string{rewrite.AnnotationRunnerID: "7", rewrite.AnnotationFingerprint: "rm-0123456789ab",
		rewrite.AnnotationTokenDigest: token.New("glrt-live").Digest("annotation"), helmReleaseName: "rel", helmReleaseNamespace: ns,
		rewrite.AnnotationTokenExpiresAt: "2030-01-02T03:04:05Z"}
	secret("rel-gitlab-runner", map[string]string{"release": "rel"}, live, "glrt-live")
	secret(TokenSecretName("rel", "rm-0123456789ab"), map[string]string{LabelManagedBy: ManagedBy, LabelRelease: "rel"},
		map[string]string{rewrite.AnnotationRunnerID: "7", rewrite.AnnotationFingerprint: "rm-0123456789ab", AnnotationRelease: ns + "/rel",
			AnnotationGitLabURL: "https://gitlab.example.com"}, "glrt-live")
	secret("unrelated", nil, nil, "glrt-not-ours")
	secret("dry-run", nil, map[string]string{rewrite.AnnotationRunnerID: "8", rewrite.AnnotationPlaceholder: "dry run"}, token.Placeholder("rm-0123456789ab").Reveal())

	got, err := c.RunnerSecrets(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("found %d Secrets naming a runner, want 2: %+v", len(got), got)
	}
	for _, s := range got {
		if s.RunnerID != 7 || s.Release != (gitlab.Release{Namespace: ns, Name: "rel"}) || !s.Token.Equal(token.New("glrt-live")) || s.Written.IsZero() {
			t.Errorf("%s: runner %d, release %s", s.Ref(), s.RunnerID, s.Release)
		}
		if s.TokenSecret != (s.Name != "rel-gitlab-runner") {
			t.Errorf("%s: token Secret %v", s.Ref(), s.TokenSecret)
		}
	}
	if all, err := c.RunnerSecrets(ctx, ""); err != nil || len(all) < 2 {
		t.Fatalf("across namespaces: %d, %v", len(all), err)
	}

	// The workload reads the live Secret through a projected volume; another through env.
	deploy := func(name string, pod corev1.PodSpec, ann map[string]string) {
		t.Helper()
		labels := map[string]string{"app": name}
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: ann}, Spec: pod}}}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	migrated := map[string]string{rewrite.AnnotationFingerprint: "rm-0123456789ab", rewrite.AnnotationTokenDigest: live[rewrite.AnnotationTokenDigest]}
	deploy("rel-gitlab-runner", corev1.PodSpec{Containers: []corev1.Container{{Name: "r", Image: "x"}}, Volumes: []corev1.Volume{{Name: "s",
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "rel-gitlab-runner"}}}}}}}}}, migrated)
	deploy("env-runner", corev1.PodSpec{Containers: []corev1.Container{{Name: "r", Image: "x", Env: []corev1.EnvVar{{Name: "CI_SERVER_TOKEN",
		ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-runner-auth-token"}, Key: "runner-token"}}}}}}}, migrated)
	deploy("not-migrated", corev1.PodSpec{Containers: []corev1.Container{{Name: "r", Image: "x"}}}, nil)
	workloads, err := c.RunnerWorkloads(ctx, ns)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	for _, w := range workloads {
		names[w.Name] = w.Secrets
	}
	if len(workloads) != 2 || !slices.Equal(names["rel-gitlab-runner"], []string{"rel-gitlab-runner"}) || !slices.Equal(names["env-runner"], []string{"env-runner-auth-token"}) {
		t.Fatalf("runner workloads %v", names)
	}

	// A rotation: the new token and its annotations in the live Secret; the workload rolled once.
	var liveSecret RunnerSecret
	for _, s := range got {
		if !s.TokenSecret {
			liveSecret = s
		}
	}
	fresh, expires := token.New("glrt-fresh"), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := c.WriteLiveToken(ctx, liveSecret, fresh, &expires); err != nil {
		t.Fatal(err)
	}
	after, err := c.RunnerSecret(ctx, ns, "rel-gitlab-runner")
	if err != nil || !after.Token.Equal(fresh) || after.RecordedDigest != fresh.Digest("annotation") || after.ExpiresAt == nil || !after.ExpiresAt.Equal(expires) {
		t.Fatalf("live Secret after the write: %+v, %v", after, err)
	}
	raw, _ := cs.CoreV1().Secrets(ns).Get(ctx, "rel-gitlab-runner", metav1.GetOptions{})
	if v, ok := raw.Data[rewrite.KeyRegistrationToken]; !ok || len(v) != 0 {
		t.Fatal("runner-registration-token must stay, empty")
	}
	var w Workload
	for _, x := range workloads {
		if x.Name == "rel-gitlab-runner" {
			w = x
		}
	}
	for i := 0; i < 2; i++ { // the second patch sets the same value: no new generation
		if err := c.RollWorkload(ctx, w, fresh.Digest("annotation")); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := cs.AppsV1().Deployments(ns).Get(ctx, "rel-gitlab-runner", metav1.GetOptions{})
	if d.Generation != w.Generation+1 || d.Spec.Template.Annotations[rewrite.AnnotationTokenDigest] != fresh.Digest("annotation") ||
		d.Spec.Template.Annotations[rewrite.AnnotationFingerprint] != "rm-0123456789ab" {
		t.Fatalf("after rolling: generation %d (was %d), annotations %v", d.Generation, w.Generation, d.Spec.Template.Annotations)
	}

	// Helm's release record, and the place a namespace names.
	rel := gitlab.Release{Namespace: ns, Name: "rel"}
	if ok, err := c.ReleaseInstalled(ctx, rel); err != nil || ok {
		t.Fatalf("no record yet: %v, %v", ok, err)
	}
	secret("sh.helm.release.v1.rel.v1", map[string]string{"owner": "helm", "name": "rel", "status": "deployed"}, nil, "")
	if ok, err := c.ReleaseInstalled(ctx, rel); err != nil || !ok {
		t.Fatalf("with Helm's record: %v, %v", ok, err)
	}
	nsObj, _ := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if place, err := c.NamespacePlace(ctx, ns); err != nil || place != "k8s-"+shortUID(string(nsObj.UID)) {
		t.Fatalf("place %q, %v", place, err)
	}
}

// TestAccessReview: the cluster admin may list Secrets everywhere; a service account with no role
// may not, and the review says so instead of failing.
func TestAccessReview(t *testing.T) {
	ctx := context.Background()
	cluster, ns := testenv.Cluster(t)
	admin, err := NewClient(cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	list := Access{Verb: "list", Resource: "secrets", Namespace: ns}
	if ok, _, err := admin.Can(ctx, list); err != nil || !ok {
		t.Fatalf("admin: %v, %v", ok, err)
	}
	if v, err := admin.ServerVersion(ctx); err != nil || v == "" {
		t.Fatalf("server version %q, %v", v, err)
	}
	cs, _ := cluster.Clientset()
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "nobody", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := cluster.RESTConfig()
	cfg.BearerToken, cfg.BearerTokenFile = tr.Status.Token, ""
	nobody, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := nobody.Can(ctx, list); err != nil || ok {
		t.Fatalf("a service account with no role: %v, %v", ok, err)
	}
	if _, err := nobody.RunnerSecrets(ctx, ns); err == nil {
		t.Fatal("listing Secrets without the right must fail")
	}
}
