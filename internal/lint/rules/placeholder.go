package rules

import (
	"regexp"
	"strings"
)

// authPrefix starts every runner authentication token.
const authPrefix = "glrt-"

func isAuthToken(s string) bool { return strings.HasPrefix(s, authPrefix) }

// upperWords are stand-ins like YOUR_TOKEN_HERE or REPLACEME.
var upperWords = regexp.MustCompile(`^[A-Z0-9]*[A-Z][A-Z0-9]*([_.-][A-Z0-9]+)*$`)

// partition is the runner type prefix of current tokens (glrt-t1_...).
var partition = regexp.MustCompile(`^t[0-9]_`)

// placeholderWords give a stand-in away wherever they appear (case does not matter).
var placeholderWords = []string{"changeme", "change_me", "change-me", "replace", "placeholder", "redacted",
	"example", "your", "dummy", "sample", "insert", "fixme", "todo"}

// isPlaceholder tells a stand-in for a token (glrt-YOUR_TOKEN_HERE, glrt-xxxxxxxx, glrt-<token>,
// glrt-${RUNNER_TOKEN}, glrt-CHANGEME) from a value that looks like a real token. Real tokens are
// random: mixed case, digits, no words.
func isPlaceholder(token string) bool {
	body := partition.ReplaceAllString(strings.TrimPrefix(token, authPrefix), "")
	if body == "" {
		return true
	}
	for _, marker := range []string{"<", ">", "${", "$(", "{{", "}}", "((", "%{", "*"} {
		if strings.Contains(body, marker) {
			return true
		}
	}
	if strings.HasPrefix(body, "$") || upperWords.MatchString(body) {
		return true
	}
	lower := strings.ToLower(body)
	letters := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, lower)
	if letters == "" || strings.Count(letters, letters[:1]) == len(letters) {
		return true // all one letter (xxxxxxxx, 0000-0000)
	}
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}
