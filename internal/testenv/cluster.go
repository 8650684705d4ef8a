package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/localcluster"
)

// clusterDirPrefix names the working dirs of shared clusters: <prefix><pid>-<random>.
const clusterDirPrefix = "runner-migrate-cluster-"

var (
	clusterMu  sync.Mutex
	cluster    *localcluster.Cluster
	clusterErr error
	clusterDir string
)

// Cluster returns a cluster (a real kube-apiserver and etcd on loopback) shared by all tests of the test
// binary, and a fresh namespace for the calling test, deleted in t.Cleanup. Use the cluster's
// Kubeconfig (KUBECONFIG=... for Helm) or Clientset; keep to your namespace.
//
// The cluster starts on first use (about 3-5 s). Nothing stops it at the end by default: both
// processes run with a parent-death signal and die with the test binary, and the next test binary that
// starts a cluster removes the working dirs that dead test binaries left in the temp dir. A package
// that wants a clean teardown can call StopCluster from TestMain after m.Run.
//
// No controller-manager runs: a deleted namespace stays Terminating with its objects, which is harmless
// because every test gets a namespace of its own.
func Cluster(t testing.TB) (*localcluster.Cluster, string) {
	t.Helper()
	c := sharedCluster(t)
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ns := namespaceName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", ns, err)
		}
	})
	return c, ns
}

// StopCluster stops the shared cluster, if one was started, and removes its working dir. For TestMain:
//
//	func TestMain(m *testing.M) { code := m.Run(); testenv.StopCluster(); os.Exit(code) }
func StopCluster() error {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if cluster == nil {
		return nil
	}
	err := cluster.Stop()
	if rerr := os.RemoveAll(clusterDir); rerr != nil {
		err = errors.Join(err, rerr)
	}
	cluster, clusterErr = nil, errors.New("testenv: the shared cluster was stopped")
	return err
}

func sharedCluster(t testing.TB) *localcluster.Cluster {
	t.Helper()
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if cluster != nil || clusterErr != nil {
		if clusterErr != nil {
			t.Fatal(clusterErr)
		}
		return cluster
	}
	opts := localcluster.Options{APIServer: Tool(t, "KUBE_APISERVER"), Etcd: Tool(t, "ETCD"), DieWithParent: true}
	removeStaleClusterDirs()
	dir, err := os.MkdirTemp("", clusterDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		t.Fatal(err)
	}
	opts.Dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := localcluster.Start(ctx, opts)
	if err != nil {
		os.RemoveAll(dir)
		clusterErr = fmt.Errorf("testenv: start the shared cluster: %w", err)
		t.Fatal(clusterErr)
	}
	t.Logf("testenv: started a cluster at %s in %v (dir %s)", c.Host, time.Since(start).Round(time.Millisecond), dir)
	cluster, clusterDir = c, dir
	return cluster
}

// removeStaleClusterDirs removes the working dirs of shared clusters whose test binary is gone (their
// processes died with it).
func removeStaleClusterDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterDirPrefix+"*"))
	for _, d := range dirs {
		pidStr, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(d), clusterDirPrefix), "-")
		if !ok {
			continue
		}
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

var nonLabel = regexp.MustCompile(`[^a-z0-9]+`)

// namespaceName makes a DNS-1123 label from a test name plus a random suffix.
func namespaceName(testName string) string {
	base := strings.Trim(nonLabel.ReplaceAllString(strings.ToLower(testName), "-"), "-")
	if len(base) > 50 {
		base = strings.TrimRight(base[:50], "-")
	}
	if base == "" {
		base = "test"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return base + "-" + hex.EncodeToString(b)
}

// NewCluster starts a cluster of the test's own (a second API server and etcd, for tests that need
// two clusters), stopped when the test ends.
func NewCluster(t testing.TB) *localcluster.Cluster {
	t.Helper()
	opts := localcluster.Options{APIServer: Tool(t, "KUBE_APISERVER"), Etcd: Tool(t, "ETCD"), DieWithParent: true}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("testenv: start a second cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Logf("testenv: stop the second cluster: %v", err)
		}
	})
	return c
}

// MergedKubeconfig writes a kubeconfig with one context per cluster (named by the keys), the
// current context being current.
func MergedKubeconfig(t testing.TB, clusters map[string]*localcluster.Cluster, current string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for name, c := range clusters {
		fmt.Fprintf(&b, "- name: %s\n  cluster: {server: %q, insecure-skip-tls-verify: true}\n", name, c.Host)
	}
	b.WriteString("users:\n")
	for name, c := range clusters {
		fmt.Fprintf(&b, "- name: %s\n  user: {token: %q}\n", name, c.Token)
	}
	b.WriteString("contexts:\n")
	for name := range clusters {
		fmt.Fprintf(&b, "- name: %s\n  context: {cluster: %s, user: %s, namespace: default}\n", name, name, name)
	}
	fmt.Fprintf(&b, "current-context: %s\n", current)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
