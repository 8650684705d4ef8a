package postrender

import (
	"strings"
	"testing"
)

func TestNoteFirstPrinted(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n"
	out := NoteFirstPrinted([]byte(in), "note")
	want := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n# note\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n"
	if !strings.Contains(string(out), "---\n# note\napiVersion: v1\nkind: ServiceAccount") || strings.Count(string(out), "# note") != 1 {
		t.Fatalf("the note is not on the ServiceAccount, which Helm prints first:\n%s", out)
	}
	if got := strings.Replace(string(out), "# note\n", "", 1); got != in {
		t.Fatalf("the note changed something else:\n%s\nwant (with the note) like:\n%s", got, want)
	}
	if out := NoteFirstPrinted([]byte("kind: Widget\nmetadata: {name: w}\n"), "n"); string(out) != "# n\nkind: Widget\nmetadata: {name: w}\n" {
		t.Fatalf("a stream of unknown kinds: %q", out)
	}
}
