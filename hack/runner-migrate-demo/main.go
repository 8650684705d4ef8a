// Command demo is `make demo`: runner-migrate's main job on built-in defaults. It starts a real
// kube-apiserver and etcd on loopback and a fake GitLab (GitLab itself cannot run here), then runs the
// real Helm 3 the way a user would:
//
//	helm upgrade --install demo gitlab-runner -f legacy-values.yaml --post-renderer runner-migrate
//
// and shows what happened in GitLab and in the cluster. It prints no token, only digests.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/gitlabfake"
	"github.com/runner-migrate/runner-migrate/internal/localcluster"
)

const (
	chart     = "testdata/charts/gitlab-runner-0.86.0"
	namespace = "demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	tools, err := buildTools()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "runner-migrate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin, err := filepath.Abs("bin/runner-migrate")
	if err != nil {
		return err
	}

	step("Starting kube-apiserver %s and etcd on loopback, and a fake GitLab", "v1.36.3")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err := localcluster.Start(ctx, localcluster.Options{APIServer: tools["KUBE_APISERVER"], Etcd: tools["ETCD"], DieWithParent: true})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	gl := gitlabfake.New()
	defer gl.Close()
	owner := gl.AddUser("platform-owner", false)
	group := gl.AddGroup("platform")
	gl.SetGroupAccess(owner, group, 50)
	pat := gl.AddToken(owner, "create_runner", "manage_runner", "read_api")

	// The release registers with the group's legacy registration token, as releases did before 17.0.
	values := filepath.Join(work, "registration.yaml")
	os.WriteFile(values, []byte(fmt.Sprintf("runnerRegistrationToken: %q\n", group.RunnersToken)), 0o600)
	env := append(os.Environ(),
		"HELM_DATA_HOME="+filepath.Join(work, "helm-data"), "HELM_CONFIG_HOME="+filepath.Join(work, "helm-config"),
		"HELM_CACHE_HOME="+filepath.Join(work, "helm-cache"), "KUBECONFIG="+cluster.Kubeconfig,
		"GITLAB_TOKEN="+pat, "RUNNER_MIGRATE_GITLAB_URL="+gl.URL(), "RUNNER_MIGRATE_ALLOW_HTTP=true", "RUNNER_MIGRATE_ALLOWED_HOST=gitlab.example.com")
	helm := func(args ...string) ([]byte, error) {
		cmd := exec.Command(tools["HELM3"], args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("helm %s: %v\n%s", args[0], err, stderr.String())
		}
		return out, nil
	}
	upgrade := func(extra ...string) error {
		args := append([]string{"upgrade", "--install", "demo", chart, "-f", "testdata/values/legacy.yaml", "-f", values,
			"-n", namespace, "--create-namespace", "--post-renderer", bin}, extra...)
		_, err := helm(args...)
		return err
	}

	step("helm upgrade --install demo %s -f legacy values --post-renderer runner-migrate", chart)
	if err := upgrade(); err != nil {
		return err
	}
	showGitLab(gl)
	if err := showSecret(ctx, cluster); err != nil {
		return err
	}

	step("Three more upgrades: the same runner and token are reused, nothing is created")
	gl.ResetCalls()
	for i := 0; i < 3; i++ {
		if err := upgrade(); err != nil {
			return err
		}
	}
	fmt.Printf("  GitLab calls in 3 upgrades: %d creates, %d reads, %d writes\n", gl.CountCalls("POST", "/api/v4/user/runners"),
		gl.CountCalls("GET", "/api/v4/"), len(gl.Calls())-gl.CountCalls("GET", "/api/v4/"))
	showGitLab(gl)

	step("The tags change in values (runners.tags=docker,linux,gpu): the runner is updated in place")
	gl.ResetCalls()
	if err := upgrade("--set", "runners.tags=docker\\,linux\\,gpu"); err != nil {
		return err
	}
	fmt.Printf("  GitLab calls: %d creates, %d updates\n", gl.CountCalls("POST", "/api/v4/user/runners"), gl.CountCalls("PUT", "/api/v4/runners/"))
	showGitLab(gl)
	if err := showSecret(ctx, cluster); err != nil {
		return err
	}

	step("A dry run of a new release plans without writing (helm template | runner-migrate post-render --dry-run)")
	manifests, err := helm("template", "other", chart, "-f", "testdata/values/legacy.yaml", "-f", values, "-n", namespace)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "post-render", "--dry-run")
	cmd.Env, cmd.Stdin = env, bytes.NewReader(manifests)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil {
		return fmt.Errorf("dry run: %v\n%s", err, stderr.String())
	}
	indent(stderr.String())
	return nil
}

func showGitLab(gl *gitlabfake.Server) {
	runners := gl.Runners()
	fmt.Printf("  GitLab now has %d runner(s):\n", len(runners))
	for _, r := range runners {
		fmt.Printf("    runner %d, %s, tags %s, run-untagged=%t, locked=%t, %s, maximum timeout %ds\n      %q\n",
			r.ID, r.Type, strings.Join(r.Tags, ","), r.RunUntagged, r.Locked, r.AccessLevel, r.MaximumTimeout, r.Description)
	}
}

func showSecret(ctx context.Context, c *localcluster.Cluster) error {
	cs, err := c.Clientset()
	if err != nil {
		return err
	}
	s, err := cs.CoreV1().Secrets(namespace).Get(ctx, "demo-gitlab-runner", metav1.GetOptions{})
	if err != nil {
		return err
	}
	rt := s.Data["runner-token"]
	sum := sha256.Sum256(rt)
	fmt.Printf("  live Secret %s/%s: runner-token = glrt-... (sha256 %s), runner-registration-token = %q\n", namespace, s.Name,
		hex.EncodeToString(sum[:])[:12], s.Data["runner-registration-token"])
	for _, k := range []string{"runner-migrate.io/runner-id", "runner-migrate.io/fingerprint"} {
		fmt.Printf("    %s: %s\n", k, s.Annotations[k])
	}
	return nil
}

// buildTools runs hack/tools.sh (cached) and reads the paths it prints.
func buildTools() (map[string]string, error) {
	cmd := exec.Command("hack/tools.sh", "helm3", "etcd", "kube-apiserver")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("hack/tools.sh: %w", err)
	}
	tools := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			tools[k] = v
		}
	}
	return tools, nil
}

func step(format string, args ...any) { fmt.Printf("\n== "+format+"\n", args...) }

func indent(s string) {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		fmt.Println("  " + l)
	}
}
