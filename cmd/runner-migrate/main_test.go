package main

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestPostRenderDefault(t *testing.T) {
	tests := []struct {
		args []string
		pipe bool
		want []string
	}{
		{nil, true, []string{"post-render"}},                                          // helm --post-renderer runner-migrate
		{[]string{"--allow-legacy"}, true, []string{"post-render", "--allow-legacy"}}, // --post-renderer-args
		{[]string{"post-render"}, true, []string{"post-render"}},
		{[]string{"--help"}, true, []string{"--help"}},
		{nil, false, nil}, // a terminal: show help
		{[]string{"--allow-legacy"}, false, []string{"--allow-legacy"}},
	}
	for _, tt := range tests {
		if got := postRenderDefault(tt.args, tt.pipe); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("postRenderDefault(%q, pipe=%v) = %q, want %q", tt.args, tt.pipe, got, tt.want)
		}
	}
}

// TestUsageErrorsExitTwo: an unknown flag, on any command, and a --timeout that leaves no time are
// usage errors (exit status 2), not failures of the work.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"post-render", "--no-such-flag"},
		{"lint", "--no-such-flag"},
		{"plan", "--no-such-flag"},
		{"--no-such-flag"},
		{"post-render", "--timeout", "0"},
		{"post-render", "--deploys", "maybe"},
		{"status", "--no-such-flag"},
		{"status", "--format", "xml"},
		{"doctor", "-n", "ci", "--all-namespaces"},
		{"rotate", "--timeout", "0"},
		{"prune", "--older-than", "-1h"},
	} {
		root := newRootCmd()
		root.SetArgs(args)
		root.SetIn(strings.NewReader(""))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		var usage usageErr
		if !errors.As(err, &usage) {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, err)
		}
	}
}
