package plan

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// HelmBinary is the Helm CLI plan renders charts with: HELM_BIN (Helm sets it for plugins), else
// helm on the PATH. Rendering with the user's own Helm (the one that will deploy) keeps the Helm SDK
// out of runner-migrate, whose post-renderer starts on every helm template.
func HelmBinary() (string, error) {
	if bin := os.Getenv("HELM_BIN"); bin != "" {
		return bin, nil
	}
	bin, err := exec.LookPath("helm")
	if err != nil {
		return "", errors.New("plan --chart renders with the Helm CLI, and none was found: put helm on the PATH or set HELM_BIN " +
			"(or render yourself: helm template ... | runner-migrate plan -)")
	}
	return bin, nil
}

// Render renders a chart with values files with `helm template` (hooks excluded, as a post-renderer
// receives it) and returns the manifest stream.
func Render(helm, chart, release, namespace string, valueFiles []string) ([]byte, error) {
	args := []string{"template", release, chart, "--namespace", namespace, "--no-hooks"}
	for _, v := range valueFiles {
		args = append(args, "--values", v)
	}
	cmd := exec.Command(helm, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("rendering chart %s with %s: %v: %s", chart, helm, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}
