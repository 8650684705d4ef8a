package rewrite

import (
	"os"
	"testing"
)

// TestKeptIsLeftAlone: a runner that reads its token from the Secret runner-migrate migrate keeps
// (not in the stream) is neither migrated again nor taken for the GitLab chart's bundled runner,
// although the chart's migrations Job reads that Secret too.
func TestKeptIsLeftAlone(t *testing.T) {
	for _, in := range []string{"testdata/kept-bundled/in.yaml", "testdata/kept-secret/in.yaml"} {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Read(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := (Pipeline{Detect{}, RecogniseBundled{}}).Filter(s); err != nil {
			t.Fatal(err)
		}
		if len(s.Sites) != 1 {
			t.Fatalf("%s: %d sites", in, len(s.Sites))
		}
		site := s.Sites[0]
		if !site.Kept || site.Bundled != nil || site.State != TokenAuthentication || site.Migratable() {
			t.Errorf("%s: kept %t, bundled %v, state %s, migratable %t", in, site.Kept, site.Bundled != nil, site.State, site.Migratable())
		}
	}
}
