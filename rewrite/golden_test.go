package rewrite

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/golden"
	"github.com/runner-migrate/runner-migrate/internal/token"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const goldenToken = "glrt-golden-token-0000000000"

// TestGolden runs every testdata/<case>/in.yaml through detection and patching (every migratable site
// gets one token) and compares what was found (sites.txt) and the output (out.yaml, or the error).
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases found (%v)", err)
	}
	for _, in := range inputs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			found, out, err := migrateAll(data, token.New(goldenToken))
			if err != nil {
				out = []byte("error: " + err.Error() + "\n")
			}
			compareGolden(t, filepath.Join(dir, "sites.txt"), []byte(found))
			compareGolden(t, filepath.Join(dir, "out.yaml"), out)
			if err != nil {
				return
			}
			if _, again, err := migrateAll(out, token.New(goldenToken)); err != nil || !bytes.Equal(again, out) {
				t.Errorf("post-rendering the output again changed it (err %v)", err)
			}
			if strings.Contains(string(out), goldenToken) {
				t.Errorf("the token appears in clear text in the output; it belongs base64-encoded in data")
			}
		})
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Compare(t, path, got, *update)
}

// migrateAll detects the sites, gives each migratable one the token, and patches. It returns what
// detection found, described before patching.
func migrateAll(data []byte, t token.Token) (string, []byte, error) {
	s, found, err := migrateStream(data, t)
	if err != nil {
		return found, nil, err
	}
	out, err := s.Bytes()
	return found, out, err
}

func migrateStream(data []byte, t token.Token) (*Stream, string, error) {
	s, err := Read(data)
	if err != nil {
		return nil, "", err
	}
	err = (Detect{}).Filter(s)
	found := describe(s.Sites)
	if err != nil {
		return nil, found, err
	}
	for _, site := range s.Sites {
		if site.Migratable() {
			site.AuthToken = t
		}
	}
	return s, found, Patches.Filter(s)
}

func describe(sites []*Site) string {
	var b strings.Builder
	for _, s := range sites {
		fmt.Fprintf(&b, "%s container=%s chart=%q generation=%s carrier=%s secret=%q state=%s\n",
			s.Workload.Ref, s.ContainerName(), s.ChartVersion, s.Generation.Name, s.Carrier, s.SecretName, s.State)
		if s.Migratable() {
			fmt.Fprintf(&b, "  spec %s: %s description=%q\n", s.Spec.Fingerprint(), s.Spec.Summary(), s.Spec.Description)
		}
		if len(s.Refused) > 0 {
			fmt.Fprintf(&b, "  refused: %s\n", strings.Join(s.Refused, ", "))
		}
		if s.NeedsRepair() {
			fmt.Fprintf(&b, "  repair: removes %s; set in GitLab: %s\n", strings.Join(s.RefusedAtRegistration(), ", "), s.SettingsForGitLab())
		}
	}
	return b.String()
}

// TestGoldenSplices: every document the golden cases change is written by splicing its edits into
// the bytes it came with, never by encoding it whole (which shows in a diff as every line changed).
func TestGoldenSplices(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*/in.yaml")
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := migrateStream(data, token.New(goldenToken))
		if err != nil {
			continue // the error cases
		}
		for _, d := range s.docs {
			if d.changed && !d.generated {
				if _, ok := d.splice(); !ok {
					t.Errorf("%s: the document at line %d was encoded whole", in, d.line)
				}
			}
		}
	}
}
