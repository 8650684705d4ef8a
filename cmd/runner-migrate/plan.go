package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/plan"
)

type planOptions struct {
	chart     string
	values    []string
	release   string
	namespace string
}

func newPlanCmd() *cobra.Command {
	o := planOptions{release: "release-name", namespace: cmp.Or(os.Getenv("HELM_NAMESPACE"), "default")}
	cmd := &cobra.Command{
		Use:   "plan [--chart CHART -f VALUES...] [MANIFESTS...|-]",
		Short: "Show the runners migration would create and the changes to the manifests, calling no API",
		Long: `plan shows what runner-migrate would do, without calling GitLab or Kubernetes: the runners it
would create (one per distinct runner spec, with the releases that share it) and the unified diff
the post-renderer would apply to the rendered manifests, with placeholder tokens.

Give rendered manifests (files, or "-" for: helm template ... | runner-migrate plan -), or a chart
with values files (-f, merged as Helm merges them), rendered with helm template by the Helm CLI
(HELM_BIN, else helm on the PATH).
--chart defaults to the chart in the current directory when -f is given.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.chart, "chart", "", "chart to render with -f (a directory or a .tgz, e.g. from helm pull gitlab/gitlab-runner)")
	f.StringArrayVarP(&o.values, "values", "f", nil, "values file; repeat to merge several, later ones winning")
	f.StringVar(&o.release, "release", o.release, "release name to render with")
	f.StringVarP(&o.namespace, "namespace", "n", o.namespace, "namespace to render into (default HELM_NAMESPACE, which helm -n sets for a plugin, else default)")
	cmd.SetFlagErrorFunc(usageError)
	return cmd
}

func (o planOptions) run(args []string, stdin io.Reader, stdout io.Writer) error {
	var sources []plan.Source
	if len(o.values) > 0 || o.chart != "" {
		chart := o.chart
		if chart == "" {
			if _, err := os.Stat("Chart.yaml"); err != nil {
				return usageError(nil, errors.New("-f needs the chart to render: --chart PATH (a directory or .tgz; helm pull gitlab/gitlab-runner --version X fetches one)"))
			}
			chart = "."
		}
		helm, err := plan.HelmBinary()
		if err != nil {
			return usageError(nil, err)
		}
		manifests, err := plan.Render(helm, chart, o.release, o.namespace, o.values)
		if err != nil {
			return usageError(nil, err)
		}
		name := fmt.Sprintf("%s/%s (chart %s", o.namespace, o.release, chart)
		if len(o.values) > 0 {
			name += ", values " + strings.Join(o.values, ", ")
		}
		sources = append(sources, plan.Source{Name: name + ")", Manifests: manifests})
	}
	for _, a := range args {
		var data []byte
		var err error
		if a == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(a)
		}
		if err != nil {
			return usageError(nil, err)
		}
		sources = append(sources, plan.Source{Name: a, Manifests: data})
	}
	if len(sources) == 0 {
		return usageError(nil, errors.New("nothing to plan: give rendered manifests (a file, or - for stdin) or --chart with -f values"))
	}
	p, err := plan.Make(sources)
	if err != nil {
		return usageError(nil, err)
	}
	return p.WriteText(stdout)
}
