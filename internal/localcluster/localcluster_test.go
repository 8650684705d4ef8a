package localcluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runner-migrate/runner-migrate/internal/localcluster"
	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

func start(t *testing.T, opts localcluster.Options) *localcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	c, err := localcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster at %s ready in %v", c.Host, time.Since(begin).Round(time.Millisecond))
	return c
}

func TestStartStop(t *testing.T) {
	c := start(t, localcluster.Options{
		APIServer:     testenv.Tool(t, "KUBE_APISERVER"),
		Etcd:          testenv.Tool(t, "ETCD"),
		DieWithParent: true,
	})
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			c.Stop()
		}
	})

	for _, f := range []string{c.Kubeconfig, c.Dir + "/etcd.log", c.Dir + "/kube-apiserver.log"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	cs, err := c.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("default namespace: %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "lc"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "lc"},
		Data:       map[string][]byte{"runner-token": []byte("glrt-x")},
	}
	if _, err := cs.CoreV1().Secrets("lc").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cs.CoreV1().Secrets("lc").Get(ctx, "s", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data["runner-token"]) != "glrt-x" {
		t.Errorf("runner-token = %q, want glrt-x", got.Data["runner-token"])
	}
	if v, err := cs.Discovery().ServerVersion(); err != nil {
		t.Error(err)
	} else {
		t.Logf("server version %s", v.GitVersion)
	}

	pids := c.Pids()
	if len(pids) != 2 {
		t.Fatalf("Pids() = %v, want etcd and kube-apiserver", pids)
	}
	ports := []string{port(t, c.Host), port(t, c.EtcdURL)}
	begin := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	t.Logf("stopped in %v", time.Since(begin).Round(time.Millisecond))
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still runs after Stop", pid)
		}
	}
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Errorf("port %s not free after Stop: %v", p, err)
			continue
		}
		l.Close()
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir %s not removed: %v", c.Dir, err)
	}
}

// TestDieWithParent starts a cluster in a child test process that then dies by SIGKILL, without any
// chance to clean up; etcd and kube-apiserver must die with it.
func TestDieWithParent(t *testing.T) {
	if os.Getenv("LOCALCLUSTER_HELPER_DIR") != "" {
		t.Skip("helper process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOrphan$", "-test.v")
	cmd.Env = append(os.Environ(),
		"LOCALCLUSTER_HELPER_DIR="+t.TempDir(),
		"KUBE_APISERVER="+testenv.Tool(t, "KUBE_APISERVER"),
		"ETCD="+testenv.Tool(t, "ETCD"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "PIDS "); ok {
			for _, f := range strings.Fields(rest) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(pids) != 2 {
		t.Fatalf("helper reported pids %v", pids)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d outlived its parent", pid)
		}
	}
}

func TestHelperOrphan(t *testing.T) {
	dir := os.Getenv("LOCALCLUSTER_HELPER_DIR")
	if dir == "" {
		t.Skip("only run by TestDieWithParent")
	}
	c := start(t, localcluster.Options{APIServer: os.Getenv("KUBE_APISERVER"), Etcd: os.Getenv("ETCD"), Dir: dir, DieWithParent: true})
	fmt.Println("PIDS", strings.Trim(fmt.Sprint(c.Pids()), "[]"))
	time.Sleep(time.Minute) // killed by the parent test long before
}

func port(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// alive reports whether pid is a running process (a zombie counts as gone).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
