package gitlab

import (
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
)

// TestRunnerNaming: the name the minting Job gets (RunnerNaming) is the one the API path gives the
// runners it creates and looks for, whatever --release and --namespace say, so either path finds the
// runner the other made.
func TestRunnerNaming(t *testing.T) {
	req := siteRequest(t, "https://gitlab.example.com", "GR1348941naming", "")
	for _, cfg := range []struct{ release, namespace string }{{"", ""}, {"other", ""}, {"", "elsewhere"}} {
		p, err := New(Config{Client: ClientConfig{Token: token.New("glpat-x")}, Release: cfg.release, Namespace: cfg.namespace})
		if err != nil {
			t.Fatal(err)
		}
		release := p.release(req)
		for _, place := range []string{"", "k8s-0123456789ab"} {
			description, marker := RunnerNaming(req, cfg.release, cfg.namespace, place)
			if want := p.desired(req, Marker(release, req.Fingerprint(), place)).description; description != want {
				t.Errorf("%+v: description %q, the API path's %q", cfg, description, want)
			}
			m, ok := parseMarker(description)
			if !strings.HasSuffix(description, marker) || !ok || !ownedBy(description, release) || m.fingerprint != req.Fingerprint() || m.place != place {
				t.Errorf("%+v: the marker %q is not the one the API path finds (%s, %s)", cfg, marker, release, req.Fingerprint())
			}
		}
	}
	if _, marker := RunnerNaming(req, "", "", ""); marker != "[runner-migrate ci/rel "+req.Fingerprint()+"]" {
		t.Errorf("marker %q", marker)
	}
}
