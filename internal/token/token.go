// Package token holds credentials (runner authentication tokens, registration tokens, access tokens)
// in a type that redacts itself wherever it could be printed, logged or serialised. Reveal is the one
// way to read the value, so every place that needs it is easy to find.
package token

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// Redacted is what a Token prints as.
const Redacted = "[REDACTED]"

// AuthenticationPrefix starts every runner authentication token GitLab issues, and is the test
// gitlab-runner itself applies (network.TokenIsCreatedRunnerToken).
const AuthenticationPrefix = "glrt-"

// PlaceholderPrefix starts the stand-in tokens of dry runs (and of resets put off until a deploy).
// They look like authentication tokens, so the output has the shape it will have, but no run ever
// takes one for a runner's token.
const PlaceholderPrefix = AuthenticationPrefix + "DRY-RUN-PLACEHOLDER-"

// Placeholder is the stand-in token for a runner spec.
func Placeholder(fingerprint string) Token { return Token{value: PlaceholderPrefix + fingerprint} }

// Token is a secret string. The zero value is the empty token.
type Token struct{ value string }

// New wraps a secret value, trimming the whitespace that files and env vars tend to carry.
func New(value string) Token { return Token{value: strings.TrimSpace(value)} }

// Reveal returns the secret. Call it only where the value must leave the process: a Secret's data,
// an HTTP header, a state file.
func (t Token) Reveal() string { return t.value }

// IsZero reports whether the token is empty.
func (t Token) IsZero() bool { return t.value == "" }

// IsAuthentication reports whether t is a runner authentication token (glrt-...).
func (t Token) IsAuthentication() bool { return strings.HasPrefix(t.value, AuthenticationPrefix) }

// IsPlaceholder reports whether t is a dry run's stand-in, not a token GitLab issued.
func (t Token) IsPlaceholder() bool { return strings.HasPrefix(t.value, PlaceholderPrefix) }

// Equal compares two tokens without revealing either.
func (t Token) Equal(o Token) bool { return t.value == o.value }

// Digest is a short one-way digest of the token, safe to put in annotations and logs: it changes
// when the token changes, and cannot be turned back into it. purpose separates digests taken for
// different uses, so the same token never yields the same string in two places.
func (t Token) Digest(purpose string) string {
	h := sha256.New()
	h.Write([]byte("runner-migrate/" + purpose + "\x00"))
	h.Write([]byte(t.value))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func (t Token) String() string   { return t.redacted() }
func (t Token) GoString() string { return "token.Token{" + t.redacted() + "}" }

// Format makes every fmt verb, %v %+v %#v %s %q included, print the redacted form.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", t.redacted())
		return
	}
	fmt.Fprint(f, t.redacted())
}

// MarshalJSON and MarshalText keep the token out of JSON, YAML and any other text encoding.
func (t Token) MarshalJSON() ([]byte, error) { return []byte(`"` + t.redacted() + `"`), nil }
func (t Token) MarshalText() ([]byte, error) { return []byte(t.redacted()), nil }

// MarshalYAML keeps the token out of YAML documents.
func (t Token) MarshalYAML() (any, error) { return t.redacted(), nil }

// LogValue keeps the token out of slog records.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.redacted()) }

func (t Token) redacted() string {
	if t.value == "" {
		return ""
	}
	return Redacted
}
