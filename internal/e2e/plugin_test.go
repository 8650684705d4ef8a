package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/runner-migrate/runner-migrate/internal/testenv"
)

// The Helm plugins as users install them: from a checkout (the hook builds the binary with Go), from
// a git URL, and from a make dist tarball (no Go), on the real Helm 3 and Helm 4.

const (
	cliPlugin        = "runner-migrate"
	postRenderPlugin = "runner-migrate-postrender"
)

// pluginVersion is the version in the repository's plugin.yaml.
func pluginVersion(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.Root(), "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Version string }
	if err := yaml.Unmarshal(data, &meta); err != nil || meta.Version == "" {
		t.Fatalf("plugin.yaml: no version (%v)", err)
	}
	return meta.Version
}

// pluginSource copies the repository's files as git sees them (tracked and new, not ignored: no
// binaries) into a fresh, committed git repository called runner-migrate, as a user's checkout.
func pluginSource(t testing.TB) string {
	t.Helper()
	return copyCheckout(t, filepath.Join(t.TempDir(), "runner-migrate"))
}

// sharedCheckout is one such copy for every test that only installs from it, made on first use and
// removed by TestMain.
var sharedCheckout struct {
	once sync.Once
	dir  string
}

func sharedPluginSource(t testing.TB) string {
	t.Helper()
	sharedCheckout.once.Do(func() {
		parent, err := os.MkdirTemp("", "runner-migrate-checkout-")
		if err != nil {
			t.Fatal(err)
		}
		sharedCheckout.dir = copyCheckout(t, filepath.Join(parent, "runner-migrate"))
	})
	if sharedCheckout.dir == "" {
		t.Fatal("the shared checkout could not be made (see the first test that asked for it)")
	}
	return sharedCheckout.dir
}

func copyCheckout(t testing.TB, dir string) string {
	t.Helper()
	list, err := exec.Command("git", "-C", testenv.Root(), "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		src, dst := filepath.Join(testenv.Root(), name), filepath.Join(dir, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(target, dst)
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "source")
	return dir
}

// git runs git in dir with a fixed identity, and returns its output.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// pathWithoutGo is a PATH holding every program of this one except go and gofmt: a host without Go.
func pathWithoutGo(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(p)
		for _, e := range entries {
			if e.Name() == "go" || e.Name() == "gofmt" || e.IsDir() {
				continue
			}
			os.Symlink(filepath.Join(p, e.Name()), filepath.Join(dir, e.Name())) // the first one in PATH wins
		}
	}
	if _, err := exec.LookPath(filepath.Join(dir, "go")); err == nil {
		t.Fatal("go is still in the PATH without Go")
	}
	return "PATH=" + dir
}

// mustRun runs helm and fails the test when it fails.
func mustRun(t testing.TB, h *testenv.Helm, env []string, args ...string) testenv.Result {
	t.Helper()
	res := h.Run(env, args...)
	if res.Err != nil {
		t.Fatalf("helm %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.Err, res.Stdout, res.Stderr)
	}
	return res
}

func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return -1
}

// versionOf reads `runner-migrate version` into a map.
func versionOf(out []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			m[k] = v
		}
	}
	return m
}

// TestHelmPlugin installs both plugins from a checkout with no binary in it, on Helm 3 and Helm 4
// (each its own checkout, so each install builds), and uses them the way the README says.
func TestHelmPlugin(t *testing.T) {
	version := pluginVersion(t)
	type install struct {
		helm *testenv.Helm
		src  string
	}
	installs := map[int]install{}
	for _, major := range []int{3, 4} {
		src := pluginSource(t)
		h := testenv.NewHelm(t, major)
		res := mustRun(t, h, nil, "plugin", "install", src)
		if !bytes.Contains(res.Stdout, []byte("runner-migrate: building "+filepath.Join(src, "bin", "runner-migrate"))) {
			t.Errorf("Helm %d: the install hook did not build the binary:\n%s%s", major, res.Stdout, res.Stderr)
		}
		if major == 4 {
			// The post-renderer plugin's hook finds the module two directories up, through the symlink
			// Helm 4 installs a local directory as.
			res := mustRun(t, h, nil, "plugin", "install", filepath.Join(src, "plugins", postRenderPlugin))
			if !bytes.Contains(res.Stdout, []byte("runner-migrate: building "+filepath.Join(src, "plugins", postRenderPlugin, "bin", "runner-migrate"))) {
				t.Errorf("Helm 4: the post-renderer plugin's hook did not build its binary:\n%s%s", res.Stdout, res.Stderr)
			}
		}
		installs[major] = install{h, src}
	}

	t.Run("plugin list", func(t *testing.T) {
		for major, in := range installs {
			out := string(mustRun(t, in.helm, nil, "plugin", "list").Stdout)
			listed := map[string]string{} // name: version
			for _, line := range strings.Split(out, "\n") {
				if f := strings.Fields(line); len(f) > 1 {
					listed[f[0]] = f[1]
				}
			}
			want := []string{cliPlugin}
			if major == 4 {
				want = append(want, postRenderPlugin)
			}
			for _, name := range want {
				if listed[name] != version {
					t.Errorf("Helm %d: plugin list does not show %s %s:\n%s", major, name, version, out)
				}
			}
		}
	})

	t.Run("version", func(t *testing.T) {
		for major, in := range installs {
			out := mustRun(t, in.helm, nil, cliPlugin, "version").Stdout
			got, head := versionOf(out), git(t, in.src, "rev-parse", "HEAD")
			if got["version"] != version || got["commit"] != head || !strings.HasPrefix(got["helm"], fmt.Sprintf("v%d.", major)) {
				t.Errorf("Helm %d: helm runner-migrate version says\n%s\nwant version %s, commit %s and Helm v%d (HELM_BIN)", major, out, version, head, major)
			}
		}
	})

	t.Run("reinstall keeps a current binary", func(t *testing.T) {
		in := installs[3]
		mustRun(t, in.helm, nil, "plugin", "uninstall", cliPlugin)
		res := mustRun(t, in.helm, []string{pathWithoutGo(t)}, "plugin", "install", in.src)
		if !bytes.Contains(res.Stdout, []byte("is current (version "+version)) {
			t.Errorf("the hook did not find its binary current:\n%s%s", res.Stdout, res.Stderr)
		}
	})

	t.Run("Helm's global flags reach the plugin", func(t *testing.T) {
		kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
		os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {}}]
contexts:
- {name: ctx-a, context: {cluster: c, user: u, namespace: team-a}}
- {name: ctx-b, context: {cluster: c, user: u, namespace: team-b}}
current-context: ctx-a
`), 0o600)
		tests := []struct {
			args []string
			want string
		}{
			{[]string{"--kubeconfig", kubeconfig}, "kubeconfig " + kubeconfig + ", context (current), namespace team-a"},
			{[]string{"--kubeconfig", kubeconfig, "--kube-context", "ctx-b"}, "kubeconfig " + kubeconfig + ", context ctx-b, namespace team-b"},
			{[]string{"--kubeconfig", kubeconfig, "--kube-context", "ctx-b", "-n", "ci"}, "kubeconfig " + kubeconfig + ", context ctx-b, namespace ci"},
		}
		for major, in := range installs {
			for _, tt := range tests {
				args := append([]string{cliPlugin, "version", "--debug"}, tt.args...)
				res := mustRun(t, in.helm, nil, args...)
				if !bytes.Contains(res.Stderr, []byte("runner-migrate: debug: cluster settings from Helm: "+tt.want+"\n")) {
					t.Errorf("Helm %d: helm %s: stderr lacks %q:\n%s", major, strings.Join(args, " "), tt.want, res.Stderr)
				}
				if !bytes.Contains(res.Stderr, []byte("as plugin runner-migrate from ")) {
					t.Errorf("Helm %d: the debug output does not say it runs as a plugin:\n%s", major, res.Stderr)
				}
			}
			if res := mustRun(t, in.helm, nil, cliPlugin, "version"); bytes.Contains(res.Stderr, []byte("debug:")) {
				t.Errorf("Helm %d: debug output without --debug:\n%s", major, res.Stderr)
			}
			// plan renders into Helm's namespace.
			res := mustRun(t, in.helm, nil, cliPlugin, "plan", "--chart", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "--release", "ci", "-n", "build")
			if !bytes.Contains(res.Stdout, []byte("build/ci (chart ")) {
				t.Errorf("Helm %d: helm runner-migrate plan -n build did not render into build:\n%s", major, res.Stdout)
			}
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		tests := []struct {
			args []string
			code int
		}{
			{[]string{"lint", "--gitlab-version", "15.5", "testdata/values/legacy.yaml"}, 0},
			{[]string{"lint", "testdata/values/legacy.yaml"}, 1},
			{[]string{"lint", "internal/e2e/testdata/broken.yaml"}, 2},
			{[]string{"lint", "--format", "xml", "."}, 2},
		}
		bin := testenv.Binary(t)
		for _, tt := range tests {
			direct := exec.Command(bin, tt.args...)
			direct.Dir, direct.Env = testenv.Root(), append(cleanEnv(), "NO_COLOR=1")
			want, err := direct.Output()
			if exitCode(err) != tt.code {
				t.Fatalf("runner-migrate %s: exit %d, the test expects %d", strings.Join(tt.args, " "), exitCode(err), tt.code)
			}
			for major, in := range installs {
				res := in.helm.Run([]string{"NO_COLOR=1"}, append([]string{cliPlugin}, tt.args...)...)
				if got := exitCode(res.Err); got != tt.code || !bytes.Equal(res.Stdout, want) {
					t.Errorf("Helm %d: helm runner-migrate %s: exit %d, want %d; stdout equal to the binary's: %v\n%s",
						major, strings.Join(tt.args, " "), got, tt.code, bytes.Equal(res.Stdout, want), res.Stderr)
				}
			}
		}
	})

	t.Run("post-renderers agree", func(t *testing.T) {
		withToken := []string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}
		for _, values := range []string{"legacy", "external-secret"} {
			args := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath(values), "-n", "ns", "--post-renderer"}
			v3 := mustRun(t, installs[3].helm, withToken, append(args, filepath.Join(installs[3].src, "bin", "runner-migrate"))...)
			v4 := mustRun(t, installs[4].helm, withToken, append(args, postRenderPlugin)...)
			noLeaks(t, append(v3.Stderr, v4.Stderr...))
			objects3, objects4 := objectsByID(t, v3.Stdout), objectsByID(t, v4.Stdout)
			if !reflect.DeepEqual(objects3, objects4) {
				for id, o := range objects3 {
					if !reflect.DeepEqual(o, objects4[id]) {
						t.Errorf("%s: Helm 3 and Helm 4 post-render %s differently", values, id)
					}
				}
				t.Fatalf("%s: the objects differ: Helm 3 %v, Helm 4 %v", values, keys(objects3), keys(objects4))
			}
			if pod := readRunnerPod(t, v4.Stdout); pod.secrets["runner-token"] != authToken {
				t.Fatalf("%s: the runner's Secret was not patched", values)
			}
		}
	})

	t.Run("update after git pull rebuilds", func(t *testing.T) {
		upstream := installs[3].src // a git repository: install it by URL, as from a git host
		for _, major := range []int{3, 4} {
			h := testenv.NewHelm(t, major)
			args := []string{"plugin", "install", "file://" + upstream}
			if major == 4 {
				args = append(args, "--verify=false") // Helm 4 cannot verify a git source
			}
			mustRun(t, h, nil, args...)
			before := versionOf(mustRun(t, h, nil, cliPlugin, "version").Stdout)["commit"]
			os.WriteFile(filepath.Join(upstream, "CHANGES"), []byte(fmt.Sprintf("Helm %d\n", major)), 0o644)
			git(t, upstream, "add", "CHANGES")
			git(t, upstream, "commit", "-q", "-m", "a change upstream")
			head := git(t, upstream, "rev-parse", "HEAD")
			mustRun(t, h, nil, "plugin", "update", cliPlugin)
			if after := versionOf(mustRun(t, h, nil, cliPlugin, "version").Stdout)["commit"]; after != head || after == before {
				t.Errorf("Helm %d: after helm plugin update the binary is from commit %s (before %s), want %s", major, after, before, head)
			}
		}
	})
}

// objectsByID decodes a manifest stream into its objects, keyed by kind, namespace and name.
func objectsByID(t *testing.T, stream []byte) map[string]any {
	t.Helper()
	objects := map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for {
		var o map[string]any
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatal(err)
		}
		if o == nil {
			continue
		}
		meta, _ := o["metadata"].(map[string]any)
		objects[fmt.Sprintf("%v %v/%v", o["kind"], meta["namespace"], meta["name"])] = o
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestPluginInstallWithoutGo installs from a checkout on a host without Go: the hook must fail and
// say why and what to do.
func TestPluginInstallWithoutGo(t *testing.T) {
	noGo := pathWithoutGo(t)
	for _, major := range []int{3, 4} {
		src := pluginSource(t)
		dirs := []string{src}
		if major == 4 {
			dirs = append(dirs, filepath.Join(src, "plugins", postRenderPlugin))
		}
		h := testenv.NewHelm(t, major)
		for _, dir := range dirs {
			res := h.Run([]string{noGo}, "plugin", "install", dir)
			if res.Err == nil {
				t.Fatalf("Helm %d: installing %s without Go succeeded", major, dir)
			}
			for _, want := range []string{"runner-migrate: Go is not installed (no go in PATH)", "bin/runner-migrate is missing", "https://go.dev/dl/", "release tarball"} {
				if !bytes.Contains(res.Stderr, []byte(want)) {
					t.Errorf("Helm %d: installing %s: stderr lacks %q:\n%s", major, dir, want, res.Stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "bin")); err == nil {
				t.Errorf("Helm %d: %s/bin exists after a failed build", major, dir)
			}
		}
	}
}

// TestPluginDist installs both plugins from the tarballs of `make dist` (this host's OS and
// architecture) on a host without Go: Helm 4 from the .tgz, Helm 3 from the unpacked directory.
func TestPluginDist(t *testing.T) {
	version := pluginVersion(t)
	dist := t.TempDir()
	platform := runtime.GOOS + "/" + runtime.GOARCH
	mk := exec.Command("make", "dist", "DIST="+dist, "PLATFORMS="+platform)
	mk.Dir = testenv.Root()
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	suffix := fmt.Sprintf("-%s-%s-%s.tgz", version, runtime.GOOS, runtime.GOARCH)
	exe := "runner-migrate"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	for _, name := range []string{cliPlugin, postRenderPlugin} {
		entries := tarEntries(t, filepath.Join(dist, name+suffix))
		want := map[string]int64{
			name + "/": 0o755, name + "/plugin.yaml": 0o644, name + "/bin/": 0o755, name + "/bin/" + exe: 0o755,
			name + "/scripts/": 0o755, name + "/scripts/install-binary.sh": 0o755,
		}
		if !reflect.DeepEqual(entries, want) {
			t.Errorf("%s%s holds %v, want %v", name, suffix, entries, want)
		}
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil || !bytes.Contains(sums, []byte("  "+cliPlugin+suffix+"\n")) || !bytes.Contains(sums, []byte("  "+postRenderPlugin+suffix+"\n")) {
		t.Errorf("SHA256SUMS does not list both tarballs (%v):\n%s", err, sums)
	}

	noGo := []string{pathWithoutGo(t)}
	withToken := append([]string{"RUNNER_MIGRATE_AUTH_TOKEN=" + authToken}, noGo...)
	render := []string{"template", "rel", chartPath("gitlab-runner-0.86.0"), "-f", valuesPath("legacy"), "-n", "ns", "--post-renderer"}

	t.Run("Helm 4 from the tarballs", func(t *testing.T) {
		h := testenv.NewHelm(t, 4)
		res := h.Run(noGo, "plugin", "install", filepath.Join(dist, cliPlugin+suffix))
		if res.Err == nil || !bytes.Contains(res.Stderr, []byte("no provenance file (.prov) found")) {
			t.Errorf("an unsigned tarball installed without --verify=false (%v):\n%s", res.Err, res.Stderr)
		}
		for _, name := range []string{cliPlugin, postRenderPlugin} {
			res := mustRun(t, h, noGo, "plugin", "install", filepath.Join(dist, name+suffix), "--verify=false")
			if !bytes.Contains(res.Stdout, []byte("nothing to build")) {
				t.Errorf("%s: the hook did not take the packaged binary:\n%s%s", name, res.Stdout, res.Stderr)
			}
		}
		if got := versionOf(mustRun(t, h, noGo, cliPlugin, "version").Stdout); got["version"] != version || !strings.HasPrefix(got["helm"], "v4.") {
			t.Errorf("helm runner-migrate version: %v", got)
		}
		res = mustRun(t, h, withToken, append(render, postRenderPlugin)...)
		golden(t, filepath.Join("helm4", "gitlab-runner-0.86.0", "legacy.yaml"), res.Stdout)
	})

	t.Run("from an HTTP URL", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/gzip") // what release hosts send for .tgz
			http.ServeFile(w, r, filepath.Join(dist, filepath.Base(r.URL.Path)))
		}))
		defer srv.Close()
		url := srv.URL + "/" + cliPlugin + suffix
		h4 := testenv.NewHelm(t, 4)
		mustRun(t, h4, noGo, "plugin", "install", url, "--verify=false")
		mustRun(t, h4, noGo, cliPlugin, "version")
		// Helm 3 wants plugin.yaml at the top of an HTTP tarball; the README says to unpack instead.
		if res := testenv.NewHelm(t, 3).Run(noGo, "plugin", "install", url); res.Err == nil || !bytes.Contains(res.Stderr, []byte("plugin.yaml")) {
			t.Errorf("Helm 3 installed an HTTP tarball with the plugin in a directory (%v), the README says it does not:\n%s", res.Err, res.Stderr)
		}
	})

	t.Run("Helm 3 from the unpacked tarball", func(t *testing.T) {
		h := testenv.NewHelm(t, 3)
		dir := t.TempDir()
		untar(t, filepath.Join(dist, cliPlugin+suffix), dir)
		res := mustRun(t, h, noGo, "plugin", "install", filepath.Join(dir, cliPlugin))
		if !bytes.Contains(res.Stdout, []byte("nothing to build")) {
			t.Errorf("the hook did not take the packaged binary:\n%s%s", res.Stdout, res.Stderr)
		}
		if got := versionOf(mustRun(t, h, noGo, cliPlugin, "version").Stdout); got["version"] != version || !strings.HasPrefix(got["helm"], "v3.") {
			t.Errorf("helm runner-migrate version: %v", got)
		}
		res = mustRun(t, h, withToken, append(render, filepath.Join(dir, cliPlugin, "bin", exe))...)
		golden(t, filepath.Join("helm3", "gitlab-runner-0.86.0", "legacy.yaml"), res.Stdout)
	})
}

// tarEntries lists a .tgz: name to mode.
func tarEntries(t *testing.T, path string) map[string]int64 {
	t.Helper()
	entries := map[string]int64{}
	readTar(t, path, func(h *tar.Header, _ io.Reader) { entries[h.Name] = h.Mode })
	return entries
}

// untar unpacks a .tgz into dir, as tar -xzf does.
func untar(t *testing.T, path, dir string) {
	t.Helper()
	readTar(t, path, func(h *tar.Header, r io.Reader) {
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(dst, 0o755)
			return
		}
		data, err := io.ReadAll(r)
		if err == nil {
			err = os.WriteFile(dst, data, os.FileMode(h.Mode))
		}
		if err != nil {
			t.Fatal(err)
		}
	})
}

func readTar(t *testing.T, path string, each func(*tar.Header, io.Reader)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		each(h, tr)
	}
}
