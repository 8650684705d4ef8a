// Package localcluster runs a real Kubernetes API server backed by a real etcd on loopback, for
// end-to-end tests and `make demo`. No kubelet, scheduler or controller-manager runs: objects are stored
// and served, but no pod ever starts and no controller acts on them (a deleted namespace, for example,
// stays Terminating because the namespace controller lives in kube-controller-manager).
//
// The binaries are not built here: hack/tools.sh builds and caches them (KUBE_APISERVER and ETCD).
package localcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options says which binaries to run and where.
type Options struct {
	APIServer string    // kube-apiserver binary
	Etcd      string    // etcd binary
	Dir       string    // working dir for data, certs, logs; a temp dir when empty (removed by Stop)
	Log       io.Writer // where the processes' output goes (nil: only the files etcd.log and kube-apiserver.log under Dir)

	// DieWithParent makes the kernel SIGKILL both processes when the process that started them dies
	// (Linux parent-death signal), so they never outlive a test binary that has no teardown hook.
	// Ignored outside Linux. (Start forks each process from an OS thread it keeps alive for the
	// process's lifetime, since the kernel ties the signal to the forking thread.)
	DieWithParent bool
}

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	Host       string // https://127.0.0.1:<port>
	Token      string // bearer token of a system:masters user
	Kubeconfig string // path of a kubeconfig file (cluster "local", user "admin", context "local"), usable by helm and client-go
	Dir        string // working dir: etcd data, certs, keys, tokens.csv, logs
	EtcdURL    string // http://127.0.0.1:<port>, etcd's client URL

	tempDir  bool
	procs    []*proc // started order: etcd, kube-apiserver
	stopOnce sync.Once
	stopErr  error
}

type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done
}

// Start runs etcd and kube-apiserver on free loopback ports and returns once the API server's /readyz
// answers 200 and the default namespace exists. ctx bounds the startup (not the cluster's lifetime: call
// Stop). If Start fails, whatever it started is stopped and a temp Dir removed.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.APIServer == "" || opts.Etcd == "" {
		return nil, errors.New("localcluster: Options.APIServer and Options.Etcd are required")
	}
	c := &Cluster{Dir: opts.Dir}
	if c.Dir == "" {
		d, err := os.MkdirTemp("", "localcluster-")
		if err != nil {
			return nil, err
		}
		c.Dir, c.tempDir = d, true
	} else if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	// Another process may take a port between picking and binding it; retry a few times on that.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = c.start(ctx, opts); err == nil {
			return c, nil
		}
		c.kill()
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
	}
	c.Stop()
	return nil, err
}

var errPortTaken = errors.New("port taken")

func (c *Cluster) start(ctx context.Context, opts Options) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdPort, peerPort, apiPort := ports[0], ports[1], ports[2]
	c.EtcdURL = "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	c.Host = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)

	// Fresh state for every attempt.
	for _, p := range []string{"etcd", "certs"} {
		if err := os.RemoveAll(filepath.Join(c.Dir, p)); err != nil {
			return err
		}
	}
	if err := c.writeCredentials(); err != nil {
		return err
	}

	etcd, err := c.run(opts, "etcd", opts.Etcd,
		"--name=localcluster",
		"--data-dir="+filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls="+c.EtcdURL,
		"--advertise-client-urls="+c.EtcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=localcluster="+peerURL,
		"--unsafe-no-fsync=true", // throwaway data: no need to wait for the disk
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, etcd, c.EtcdURL+"/health", "", 100*time.Millisecond); err != nil {
		return c.startErr("etcd did not become healthy", err)
	}

	_, err = c.run(opts, "kube-apiserver", opts.APIServer,
		"--etcd-servers="+c.EtcdURL,
		"--cert-dir="+filepath.Join(c.Dir, "certs"),
		"--secure-port="+strconv.Itoa(apiPort),
		"--bind-address=127.0.0.1",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(c.Dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(c.Dir, "sa.key"),
		"--token-auth-file="+filepath.Join(c.Dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--disable-admission-plugins=ServiceAccount",
		// Lean on a small machine: one client, nobody to be fair to, nothing to profile.
		"--enable-priority-and-fairness=false",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	api := c.procs[len(c.procs)-1]
	if err := waitHTTP(ctx, api, c.Host+"/readyz", c.Token, 200*time.Millisecond); err != nil {
		return c.startErr("kube-apiserver did not become ready", err)
	}
	if err := c.waitDefaultNamespace(ctx, api); err != nil {
		return c.startErr("the default namespace did not appear", err)
	}
	if err := c.writeKubeconfig(); err != nil {
		return err
	}
	return nil
}

// writeCredentials writes the service-account key pair and a token file with one system:masters user.
func (c *Cluster) writeCredentials() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(c.Dir, "sa.key"), priv, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		return err
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.Token = hex.EncodeToString(b)
	return os.WriteFile(filepath.Join(c.Dir, "tokens.csv"), []byte(c.Token+",admin,admin,system:masters\n"), 0o600)
}

func (c *Cluster) writeKubeconfig() error {
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: local
  context:
    cluster: local
    user: admin
    namespace: default
current-context: local
`, c.Host, c.Token)
	return os.WriteFile(c.Kubeconfig, []byte(kc), 0o600)
}

// run starts one program in its own process group, its output going to Dir/<name>.log (and opts.Log).
func (c *Cluster) run(opts Options, name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(c.Dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = c.Dir
	cmd.Stdout, cmd.Stderr = f, f
	if opts.Log != nil {
		w := io.MultiWriter(f, opts.Log)
		cmd.Stdout, cmd.Stderr = w, w
	}
	cmd.SysProcAttr = sysProcAttr(opts.DieWithParent)
	p := &proc{name: name, cmd: cmd, logPath: logPath, logFile: f, done: make(chan struct{})}
	// The parent-death signal fires when the OS thread that forked the child exits, not the process.
	// Fork from a thread locked to a goroutine that lives exactly as long as the child, so the signal
	// can only come from the whole process dying.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		f.Close()
		return nil, fmt.Errorf("localcluster: start %s: %w", name, err)
	}
	c.procs = append(c.procs, p)
	return p, nil
}

// waitHTTP polls url until it answers 200, the process exits, or ctx ends.
func waitHTTP(ctx context.Context, p *proc, url, token string, every time.Duration) error {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
	}
	last := errors.New("no answer yet")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if resp, err := client.Do(req); err != nil {
			last = err
		} else {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s: %s", url, resp.Status, lastLines(body, 10))
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(every):
		}
	}
}

// waitDefaultNamespace waits for the bootstrap controller to create the default namespace.
func (c *Cluster) waitDefaultNamespace(ctx context.Context, api *proc) error {
	cs, err := c.Clientset()
	if err != nil {
		return err
	}
	for {
		_, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) && ctx.Err() == nil {
			return err
		}
		select {
		case <-api.done:
			return fmt.Errorf("%s exited: %v", api.name, api.err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startErr wraps err with the tails of both logs; it is errPortTaken when a log says a port was taken.
func (c *Cluster) startErr(what string, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "localcluster: %s: %v", what, err)
	taken := false
	for _, p := range c.procs {
		data, _ := os.ReadFile(p.logPath)
		if bytes.Contains(data, []byte("address already in use")) {
			taken = true
		}
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", p.logPath, lastLines(data, 30))
	}
	if taken {
		return fmt.Errorf("%w: %s", errPortTaken, b.String())
	}
	return errors.New(b.String())
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// kill stops the started processes (kube-apiserver first) and waits for them.
func (c *Cluster) kill() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		// The process group: the program and anything it may have started.
		if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %s: %w", p.name, err))
		}
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			errs = append(errs, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid))
		}
		p.logFile.Close()
	}
	c.procs = nil
	return errors.Join(errs...)
}

// Stop kills both processes (their process groups), waits for them, and removes Dir if Start made it.
// It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		err := c.kill()
		if c.tempDir {
			if rerr := os.RemoveAll(c.Dir); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		c.stopErr = err
	})
	return c.stopErr
}

// Pids returns the process ids of etcd and kube-apiserver while they run (nil after Stop).
func (c *Cluster) Pids() []int {
	var pids []int
	for _, p := range c.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	return pids
}

// RESTConfig returns a client config for the system:masters user.
func (c *Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.Host,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
		QPS:             100,
		Burst:           200,
	}
}

// Clientset returns a typed client for the system:masters user.
func (c *Cluster) Clientset() (kubernetes.Interface, error) {
	return kubernetes.NewForConfig(c.RESTConfig())
}
