package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/lint"
	"github.com/runner-migrate/runner-migrate/internal/lint/rules"
	"github.com/runner-migrate/runner-migrate/internal/report"
)

type lintOptions struct {
	values        []string
	gitlabVersion string
	failOn        string
	format        string
	output        string
}

func newLintCmd() *cobra.Command {
	o := lintOptions{gitlabVersion: rules.DefaultGitLabVersion.String(), failOn: "error", format: "text"}
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Find values and manifests that still depend on legacy runner registration",
		Long: `lint checks Helm values files, charts and rendered manifests for what still depends on legacy
runner registration tokens, with the file and line, why it breaks on the target GitLab version and
how to fix it. PATH is a values file, a manifest file (rendered, or Argo CD Applications and Flux
HelmReleases with their values), a directory (walked: every YAML file outside hidden directories and
chart templates) or "-" for stdin (helm template ... | runner-migrate lint -). With no PATH it lints
the current directory.

-f lints the merge of several values files the way Helm merges them (after the values.yaml of a chart
given as PATH), reporting each finding at the file and line that set the value.

Exit status: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage errors or files
that cannot be read (every report carries them).
Rules and their fixes: https://github.com/runner-migrate/runner-migrate#lint-rules`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.values, "values", "f", nil, "values file of one release; repeat to merge several, later ones winning")
	f.StringVar(&o.gitlabVersion, "gitlab-version", o.gitlabVersion, "GitLab version the severities are for (before 15.6: nothing; 15.6-16.x: warnings; 17.0+: errors)")
	f.StringVar(&o.failOn, "fail-on", o.failOn, "exit 1 when a finding is at least this severe: error, warning or info")
	f.StringVar(&o.format, "format", o.format, "output: "+strings.Join(report.Formats, ", "))
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	cmd.SetFlagErrorFunc(usageError)
	return cmd
}

func (o lintOptions) run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	target, err := rules.ParseGitLabVersion(o.gitlabVersion)
	if err != nil {
		return usageError(nil, fmt.Errorf("--gitlab-version: %w", err))
	}
	failOn, err := rules.ParseSeverity(o.failOn)
	if err != nil {
		return usageError(nil, fmt.Errorf("--fail-on: %w", err))
	}
	if !validFormat(o.format) {
		return usageError(nil, fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(report.Formats, ", ")))
	}
	res := lint.Run(lint.Options{Paths: args, ValuesFiles: o.values, Target: target, Stdin: stdin})
	out, color := stdout, o.format == "text" && isTerminal(stdout) && os.Getenv("NO_COLOR") == ""
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return usageError(nil, err)
		}
		defer f.Close()
		out, color = f, false
	}
	if err := report.Write(out, res, report.Options{Format: o.format, Color: color, ToolVersion: version, GitLabVersion: target}); err != nil {
		return err
	}
	// Every report carries the files lint could not read; stderr names them too, unless the report
	// is the text on stdout, which already shows them.
	if o.format != "text" || o.output != "" {
		for _, e := range res.Errors {
			fmt.Fprintln(stderr, "runner-migrate: "+e.Error())
		}
	}
	switch {
	case len(res.Errors) > 0:
		return exitCode(2)
	case worst(res.Findings) >= failOn:
		return exitCode(1)
	}
	return nil
}

func validFormat(f string) bool {
	for _, x := range report.Formats {
		if f == x {
			return true
		}
	}
	return false
}

func worst(fs []rules.Finding) rules.Severity {
	w := rules.SeverityNone
	for _, f := range fs {
		w = max(w, f.Severity)
	}
	return w
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
