// Package releases reads the Helm releases deployed in a cluster from Helm's own release storage
// (the Secret driver, Helm's default, and the ConfigMap driver): for each release its newest deployed
// revision, with the values the user supplied and the manifest Helm applied. It decodes the storage
// format itself rather than linking the Helm SDK, which would add to every post-render's start-up.
package releases

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Record is one object of Helm's release storage (the Secret and ConfigMap drivers): one revision of
// one release, its payload still encoded as Helm wrote it.
type Record struct {
	Driver    string // "Secret" or "ConfigMap"
	Namespace string
	Name      string // sh.helm.release.v1.<release>.v<revision>
	Labels    map[string]string
	Payload   []byte // the `release` key: base64 of the gzipped JSON release
}

// Release is one revision of a Helm release.
type Release struct {
	Name      string
	Namespace string
	Revision  int
	Status    string
	Chart     Chart
	// Config is the values the user supplied (-f, --set), as JSON; "null" or empty when none.
	Config json.RawMessage
	// Manifest is the rendered manifests Helm applied (hooks apart), as `helm get manifest` prints them.
	Manifest string
	// Stored names the storage object the revision was read from: "Secret ci/sh.helm.release.v1.x.v3".
	Stored string
}

// Chart is what the release record says of its chart.
type Chart struct {
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	AppVersion   string       `json:"appVersion"`
	Dependencies []Dependency `json:"dependencies"`
}

// Dependency is a dependency of the chart, as its Chart.yaml declares it.
type Dependency struct {
	Name      string `json:"name"`
	Alias     string `json:"alias"`
	Condition string `json:"condition"`
}

// Label names the release in reports: "release ci/runner (revision 3, chart gitlab-runner-0.71.0)".
func (r *Release) Label() string {
	chart := r.Chart.Name
	if r.Chart.Version != "" {
		chart += "-" + r.Chart.Version
	}
	label := fmt.Sprintf("release %s/%s (revision %d, chart %s", r.Namespace, r.Name, r.Revision, chart)
	if r.Status != "" && r.Status != "deployed" {
		label += ", " + r.Status
	}
	return label + ")"
}

// record is the part of Helm's release JSON (helm.sh/helm/v3/pkg/release.Release) read here.
type record struct {
	Name string `json:"name"`
	Info struct {
		Status string `json:"status"`
	} `json:"info"`
	Chart struct {
		Metadata Chart `json:"metadata"`
	} `json:"chart"`
	Config    json.RawMessage `json:"config"`
	Manifest  string          `json:"manifest"`
	Version   int             `json:"version"`
	Namespace string          `json:"namespace"`
}

var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Decode reads a release as Helm's storage drivers keep it: base64 of the gzipped JSON release (Helm
// also reads it ungzipped, as very old releases were written).
func Decode(payload []byte) (*Release, error) {
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(payload)))
	if err != nil {
		return nil, fmt.Errorf("the release is not base64: %w", err)
	}
	if bytes.HasPrefix(raw, gzipMagic) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("the release is not gzip: %w", err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("the release does not gunzip: %w", err)
		}
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("the release is not Helm's release JSON: %w", err)
	}
	return &Release{Name: rec.Name, Namespace: rec.Namespace, Revision: rec.Version, Status: rec.Info.Status,
		Chart: rec.Chart.Metadata, Config: rec.Config, Manifest: rec.Manifest}, nil
}

// Query says which releases to read.
type Query struct {
	Namespace string // "" for every namespace
	Name      string // "" for every release
}

// Lister lists Helm's release storage (kube.Client) in a namespace ("" for all), by label selector.
type Lister interface {
	HelmRecords(ctx context.Context, namespace, selector string) ([]Record, error)
}

// Deployed reads the newest deployed revision of each release the query names, ordered by namespace
// and name. A record that cannot be decoded is an error of its own (the others are still returned).
func Deployed(ctx context.Context, l Lister, q Query) ([]*Release, error) {
	selector := "status=deployed"
	if q.Name != "" {
		selector += ",name=" + q.Name
	}
	records, err := l.HelmRecords(ctx, q.Namespace, selector)
	if err != nil {
		return nil, err
	}
	newest := map[string]*Release{}
	var errs []error
	for _, rec := range records {
		stored := rec.Driver + " " + rec.Namespace + "/" + rec.Name
		r, err := Decode(rec.Payload)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", stored, err))
			continue
		}
		r.Stored = stored
		// The labels are what Helm selects by; they win where the JSON leaves a field out.
		if r.Name == "" {
			r.Name = rec.Labels["name"]
		}
		if r.Namespace == "" {
			r.Namespace = rec.Namespace
		}
		if r.Revision == 0 {
			r.Revision, _ = strconv.Atoi(rec.Labels["version"])
		}
		key := r.Namespace + "/" + r.Name
		if old, ok := newest[key]; !ok || r.Revision > old.Revision {
			newest[key] = r
		}
	}
	out := make([]*Release, 0, len(newest))
	for _, r := range newest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, errors.Join(errs...)
}
