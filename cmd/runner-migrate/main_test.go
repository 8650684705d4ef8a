package main

import (
	"reflect"
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
