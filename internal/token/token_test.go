package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const secret = "glrt-t3_s3cr3tValueThatMustNotLeak"

func TestTokenNeverPrints(t *testing.T) {
	tok := New("  " + secret + "\n")
	if tok.Reveal() != secret {
		t.Fatalf("Reveal = %q, want the trimmed value", tok.Reveal())
	}
	type holder struct {
		Token Token
		Ptr   *Token
	}
	h := holder{Token: tok, Ptr: &tok}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, h))
	}
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := yaml.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("m", "token", tok, "holder", h)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("m", "token", tok)
	outputs = append(outputs, string(js), string(ys), logs.String(), tok.String(), tok.GoString())
	for _, out := range outputs {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("token leaked: %s", out)
		}
	}
	if !strings.Contains(fmt.Sprint(tok), Redacted) {
		t.Errorf("a set token must print as %s", Redacted)
	}
}

func TestTokenKinds(t *testing.T) {
	tests := []struct {
		value      string
		auth, zero bool
	}{
		{"glrt-abc", true, false},
		{"glrtr-abc", false, false}, // gitlab-runner itself tests for glrt- only
		{"GR1348941abc", false, false},
		{"", false, true},
	}
	for _, tt := range tests {
		tok := New(tt.value)
		if tok.IsAuthentication() != tt.auth || tok.IsZero() != tt.zero {
			t.Errorf("%q: IsAuthentication=%v IsZero=%v", tt.value, tok.IsAuthentication(), tok.IsZero())
		}
	}
}

func TestDigest(t *testing.T) {
	a, b := New("glrt-a"), New("glrt-b")
	if a.Digest("x") == b.Digest("x") {
		t.Error("different tokens must have different digests")
	}
	if a.Digest("x") == a.Digest("y") {
		t.Error("digests for different purposes must differ")
	}
	if a.Digest("x") != New("glrt-a").Digest("x") {
		t.Error("digest must be stable")
	}
	if strings.Contains(a.Digest("x"), "glrt") || len(a.Digest("x")) != 16 {
		t.Errorf("digest %q", a.Digest("x"))
	}
}
