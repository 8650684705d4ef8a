package releases

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// encode writes a release the way Helm's storage drivers do: JSON, gzipped, base64.
func encode(t *testing.T, json string, gzipped bool) []byte {
	t.Helper()
	data := []byte(json)
	if gzipped {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	return []byte(base64.StdEncoding.EncodeToString(data))
}

func releaseJSON(name, ns string, revision int, status string) string {
	return fmt.Sprintf(`{"name":%q,"namespace":%q,"version":%d,"info":{"status":%q},
"chart":{"metadata":{"name":"gitlab-runner","version":"0.71.0","dependencies":[{"name":"x","alias":"y","condition":"y.enabled"}]},"templates":[{"name":"t","data":"eA=="}]},
"config":{"runnerRegistrationToken":"GR1348941x"},"manifest":"---\nkind: Secret\n"}`, name, ns, revision, status)
}

func TestDecode(t *testing.T) {
	for _, gz := range []bool{true, false} {
		r, err := Decode(encode(t, releaseJSON("ci", "build", 3, "deployed"), gz))
		if err != nil {
			t.Fatal(err)
		}
		if r.Name != "ci" || r.Namespace != "build" || r.Revision != 3 || r.Chart.Name != "gitlab-runner" || r.Chart.Dependencies[0].Alias != "y" ||
			!strings.Contains(string(r.Config), "GR1348941x") || r.Manifest != "---\nkind: Secret\n" {
			t.Fatalf("gzip %t: %+v", gz, r)
		}
		if got := r.Label(); got != "release build/ci (revision 3, chart gitlab-runner-0.71.0)" {
			t.Errorf("label %q", got)
		}
	}
	for _, bad := range [][]byte{[]byte("not base64!"), encode(t, "{", true), []byte(base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 0x08, 0}))} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

type fakeLister struct {
	records  []Record
	selector string
}

func (f *fakeLister) HelmRecords(_ context.Context, _ string, selector string) ([]Record, error) {
	f.selector = selector
	return f.records, nil
}

// TestDeployed keeps the newest deployed revision of each release, across drivers, and reports a
// record it cannot read without losing the others.
func TestDeployed(t *testing.T) {
	l := &fakeLister{records: []Record{
		{Driver: "Secret", Namespace: "a", Name: "sh.helm.release.v1.ci.v1", Payload: encode(t, releaseJSON("ci", "a", 1, "deployed"), true)},
		{Driver: "Secret", Namespace: "a", Name: "sh.helm.release.v1.ci.v4", Payload: encode(t, releaseJSON("ci", "a", 4, "deployed"), true)},
		{Driver: "ConfigMap", Namespace: "b", Name: "sh.helm.release.v1.ci.v2", Payload: encode(t, releaseJSON("ci", "b", 2, "deployed"), true)},
		{Driver: "Secret", Namespace: "a", Name: "sh.helm.release.v1.broken.v1", Payload: []byte("%%%")},
	}}
	got, err := Deployed(context.Background(), l, Query{Name: "ci"})
	if err == nil || !strings.Contains(err.Error(), "Secret a/sh.helm.release.v1.broken.v1") {
		t.Errorf("want an error naming the broken record, got %v", err)
	}
	if l.selector != "status=deployed,name=ci" {
		t.Errorf("selector %q", l.selector)
	}
	if len(got) != 2 || got[0].Namespace != "a" || got[0].Revision != 4 || got[1].Namespace != "b" || got[1].Stored != "ConfigMap b/sh.helm.release.v1.ci.v2" {
		t.Fatalf("got %+v", got)
	}
}

// FuzzDecode: whatever a storage object holds, Decode returns a release or an error, never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(base64.StdEncoding.EncodeToString([]byte(releaseJSON("ci", "a", 1, "deployed")))))
	f.Add([]byte("H4sIAAAAAAAA/w=="))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, payload []byte) {
		r, err := Decode(payload)
		if err == nil && r == nil {
			t.Fatal("no release and no error")
		}
	})
}
