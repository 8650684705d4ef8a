package main

import (
	"github.com/spf13/cobra"

	"github.com/runner-migrate/runner-migrate/internal/runreport"
)

func newReportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report [FILE]",
		Short: "Print the last post-render's report: what it did, its warnings and why it failed",
		Long: `report prints, in words, the JSON report a post-render wrote: the runners it created, reused,
updated or adopted, its warnings, and each error with the object, field and fix. Helm 4 shows nothing
of a post-renderer plugin's messages (only "plugin exited with error"), so the Helm 4 plugin writes
its report under Helm's cache directory, where this command reads it by default:
` + runreport.DefaultPath() + `
Give FILE to read a report written with post-render --report FILE.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := runreport.DefaultPath()
			if len(args) == 1 {
				path = args[0]
			}
			r, err := runreport.Load(path)
			if err != nil {
				return err
			}
			return r.WriteText(cmd.OutOrStdout())
		},
	}
}
