// Command dist is `make dist`: release tarballs of both Helm plugins for each OS and architecture,
// each holding plugin.yaml, the binary and the install hook, so that `helm plugin install` needs
// neither Go nor a network:
//
//	dist/runner-migrate-<version>-<os>-<arch>.tgz             runner-migrate/{plugin.yaml,bin/,scripts/}
//	dist/runner-migrate-postrender-<version>-<os>-<arch>.tgz  runner-migrate-postrender/{...}
//	dist/SHA256SUMS
//
// Helm 4 installs a local tarball only when it is named <name>-<semver>.tgz and holds
// <name>/plugin.yaml; "<version>-<os>-<arch>" is a valid SemVer (a pre-release suffix), and Helm takes
// the name up to it. The archives are reproducible: entries in a fixed order, fixed owner and modes, the
// commit's time.
package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The plugins: the directory holding plugin.yaml, relative to the repository root.
var plugins = []struct{ name, dir string }{
	{"runner-migrate", "."},
	{"runner-migrate-postrender", "plugins/runner-migrate-postrender"},
}

const hook = "scripts/install-binary.sh"

func main() {
	out := flag.String("out", "dist", "output directory")
	platforms := flag.String("platforms", "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64", "GOOS/GOARCH list")
	commit := flag.String("commit", "", "source commit the binaries report (runner-migrate version)")
	mtime := flag.Int64("mtime", 0, "modification time of the archived files, in Unix seconds (SOURCE_DATE_EPOCH)")
	goBin := flag.String("go", "go", "the go command")
	flag.Parse()
	if err := run(*out, strings.Fields(*platforms), *commit, time.Unix(*mtime, 0), *goBin); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run(out string, platforms []string, commit string, mtime time.Time, goBin string) error {
	version, err := pluginVersion()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "runner-migrate-dist-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	var sums strings.Builder
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok {
			return fmt.Errorf("platform %q: want GOOS/GOARCH", p)
		}
		exe := "runner-migrate"
		if goos == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(work, goos+"-"+goarch, exe)
		fmt.Fprintf(os.Stderr, "dist: building %s/%s\n", goos, goarch)
		build := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false",
			"-ldflags", fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s", version, commit), "-o", bin, "./cmd/runner-migrate")
		build.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build for %s: %w", p, err)
		}
		for _, pl := range plugins {
			name := fmt.Sprintf("%s-%s-%s-%s.tgz", pl.name, version, goos, goarch)
			files := []file{
				{pl.name + "/plugin.yaml", filepath.Join(pl.dir, "plugin.yaml"), 0o644},
				{pl.name + "/bin/" + exe, bin, 0o755},
				{pl.name + "/" + hook, hook, 0o755},
			}
			sum, err := writeTarball(filepath.Join(out, name), files, mtime)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			fmt.Fprintf(&sums, "%s  %s\n", sum, name)
			fmt.Fprintf(os.Stderr, "dist: wrote %s\n", filepath.Join(out, name))
		}
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(sums.String()), 0o644)
}

// pluginVersion is the version both plugin.yaml files carry; the binaries report it, and the install
// hook rebuilds a binary that reports another.
func pluginVersion() (string, error) {
	var version string
	for _, pl := range plugins {
		path := filepath.Join(pl.dir, "plugin.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		var meta struct{ Version string }
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		switch {
		case meta.Version == "":
			return "", fmt.Errorf("%s has no version", path)
		case version != "" && meta.Version != version:
			return "", fmt.Errorf("%s says version %s, %s says %s: make them equal", path, meta.Version, filepath.Join(plugins[0].dir, "plugin.yaml"), version)
		}
		version = meta.Version
	}
	return version, nil
}

// file is one archive entry: its name in the archive, where it comes from, and its mode.
type file struct {
	name, src string
	mode      int64
}

// writeTarball writes a gzipped tar of files (directories first, as Helm 3's extractor needs them)
// and returns its SHA-256.
func writeTarball(path string, files []file, mtime time.Time) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hash := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, hash))
	tw := tar.NewWriter(gz)
	seen := map[string]bool{}
	header := func(name string, typ byte, mode, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: typ, Mode: mode, Size: size, ModTime: mtime, Uname: "root", Gname: "root"}
	}
	for _, fl := range files {
		var dirs []string
		for dir := filepath.ToSlash(filepath.Dir(fl.name)); dir != "."; dir = filepath.ToSlash(filepath.Dir(dir)) {
			dirs = append([]string{dir}, dirs...)
		}
		for _, dir := range dirs {
			if seen[dir] {
				continue
			}
			seen[dir] = true
			if err := tw.WriteHeader(header(dir+"/", tar.TypeDir, 0o755, 0)); err != nil {
				return "", err
			}
		}
		data, err := os.ReadFile(fl.src)
		if err != nil {
			return "", err
		}
		if err := tw.WriteHeader(header(fl.name, tar.TypeReg, fl.mode, int64(len(data)))); err != nil {
			return "", err
		}
		if _, err := tw.Write(data); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := gz.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(hash.Sum(nil)), f.Close()
}
