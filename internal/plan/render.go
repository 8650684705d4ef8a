package plan

import (
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
)

// Render renders a chart with values files the way `helm template` does, in process, without a
// cluster, and returns the manifest stream a post-renderer would receive (hooks excluded).
func Render(chartPath, release, namespace string, valueFiles []string) ([]byte, error) {
	chrt, err := loader.Load(chartPath)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", chartPath, err)
	}
	vals, err := (&values.Options{ValueFiles: valueFiles}).MergeValues(getter.Providers{})
	if err != nil {
		return nil, err
	}
	inst := action.NewInstall(&action.Configuration{Log: func(string, ...interface{}) {}})
	inst.DryRun, inst.ClientOnly, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = release, namespace
	inst.DisableHooks = true
	rel, err := inst.Run(chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", chartPath, err)
	}
	return []byte(rel.Manifest), nil
}
