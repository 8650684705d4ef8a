package tokensource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runner-migrate/runner-migrate/internal/token"
	"github.com/runner-migrate/runner-migrate/rewrite"
)

func request(tags ...string) Request {
	return Request{Spec: rewrite.Spec{URL: "https://gitlab.example.com", Tags: tags, Locked: true, AccessLevel: rewrite.AccessNotProtected}}
}

func TestSingleServesOneSpec(t *testing.T) {
	s, err := NewSingle(token.New("glrt-one"), "RUNNER_MIGRATE_AUTH_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the same spec may ask again
		if c, err := s.Credential(ctx, request("a")); err != nil || c.Token.Reveal() != "glrt-one" {
			t.Fatalf("Credential = %v, %v", c, err)
		}
	}
	_, err = s.Credential(ctx, request("b"))
	if err == nil || !strings.Contains(err.Error(), "--auth-token-map") {
		t.Fatalf("a second spec must be refused with a pointer to the map, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, v := range []string{"", "GR1348941registration", "glpat-personal", "glrt-a b"} {
		_, err := NewSingle(token.New(v), "origin")
		if err == nil {
			t.Errorf("%q accepted", v)
			continue
		}
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}

func TestMap(t *testing.T) {
	dir := t.TempDir()
	a, b := request("a"), request("b")
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(a.Fingerprint()+": glrt-aaa\n"+b.Fingerprint()+": \"glrt-bbb\"\n"), 0o600)
	m, err := LoadMap(good)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := m.Credential(context.Background(), b); err != nil || c.Token.Reveal() != "glrt-bbb" {
		t.Fatalf("Credential(b) = %v, %v", c, err)
	}
	if _, err := m.Credential(context.Background(), request("c")); !errors.Is(err, ErrNoToken) {
		t.Fatalf("an unknown spec must be ErrNoToken, got %v", err)
	}
	if got := m.Fingerprints(); len(got) != 2 {
		t.Fatalf("Fingerprints = %v", got)
	}

	for name, content := range map[string]string{
		"not a map":    "- glrt-leakme1\n",
		"broken yaml":  "rm-1: [glrt-leakme2\n",
		"not glrt":     "rm-1: GR1348941leakme3\n",
		"nested value": "rm-1: {a: glrt-leakme4}\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		os.WriteFile(p, []byte(content), 0o600)
		_, err := LoadMap(p)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "leakme") {
			t.Errorf("%s: the error quotes the file's secrets: %v", name, err)
		}
	}
}

func TestChain(t *testing.T) {
	empty := &Map{tokens: map[string]token.Token{}}
	single, _ := NewSingle(token.New("glrt-fallback"), "env")
	c, err := Chain{empty, single}.Credential(context.Background(), request("a"))
	if err != nil || c.Token.Reveal() != "glrt-fallback" {
		t.Fatalf("chain = %v, %v", c, err)
	}
	if _, err := (Chain{empty}).Credential(context.Background(), request("a")); !errors.Is(err, ErrNoToken) {
		t.Fatalf("an exhausted chain must be ErrNoToken, got %v", err)
	}
}

// TestPlaceholdersHideEveryToken: a dry run's source hands out placeholders for the tokens it has,
// and passes on what it has not.
func TestPlaceholdersHideEveryToken(t *testing.T) {
	single, err := NewSingle(token.New("glrt-real-one"), "RUNNER_MIGRATE_AUTH_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	p := Placeholders{Source: Chain{single}}
	c, err := p.Credential(context.Background(), request("a"))
	if err != nil || !c.Placeholder || !c.Token.IsPlaceholder() || c.Token.Reveal() == "glrt-real-one" || c.RunnerID != 0 {
		t.Fatalf("Credential = %+v, %v; want a placeholder", c, err)
	}
	if _, err := (Placeholders{Source: Chain{}}).Credential(context.Background(), request("a")); !errors.Is(err, ErrNoToken) {
		t.Fatalf("no token must stay ErrNoToken, got %v", err)
	}
}
