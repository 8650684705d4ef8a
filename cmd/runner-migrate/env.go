package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// bindEnv lets every flag of cmd be set as RUNNER_MIGRATE_<FLAG> (dashes as underscores): Helm 3
// runs `--post-renderer runner-migrate` with no arguments unless --post-renderer-args repeats each
// one. Flags on the command line win, as they are parsed after this.
func bindEnv(cmd *cobra.Command) {
	var errs []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		name := envName(f.Name)
		f.Usage += " (env " + name + ")"
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", name, v, err))
			}
		}
	})
	if len(errs) > 0 {
		prev := cmd.PreRunE
		cmd.PreRunE = func(c *cobra.Command, args []string) error {
			if prev != nil {
				if err := prev(c, args); err != nil {
					return err
				}
			}
			return fmt.Errorf("invalid environment: %s", strings.Join(errs, "; "))
		}
	}
}

func envName(flag string) string {
	return "RUNNER_MIGRATE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
