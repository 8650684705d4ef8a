package gitlabfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// response is a fully computed answer, written to the network only after the server mutex
// has been released.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) writeTo(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	w.WriteHeader(r.status)
	if len(r.body) > 0 {
		_, _ = w.Write(r.body)
	}
}

// newAPIResponse carries the headers every Grape response of GitLab has.
func newAPIResponse(status int) *response {
	h := http.Header{}
	h.Set("Cache-Control", "max-age=0, private, must-revalidate")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Request-Id", requestID())
	return &response{status: status, header: h}
}

// jsonResponse renders v as GitLab does: Content-Type application/json (no charset), no
// trailing newline, and <, > and & escaped as \u003c etc., like Rails' JSON encoder.
func jsonResponse(status int, v any) *response {
	body, err := json.Marshal(v)
	if err != nil {
		// Only the fake's own entities are marshalled here, so this is a programming error.
		panic(fmt.Sprintf("gitlabfake: cannot render %T: %v", v, err))
	}
	resp := newAPIResponse(status)
	resp.header.Set("Content-Type", "application/json")
	resp.body = body
	return resp
}

// noContent is DELETE's answer: 204 and no body, hence no Content-Type.
func noContent() *response { return newAPIResponse(http.StatusNoContent) }

// messageError is the body of Grape's error!/render_api_error!: {"message": ...}.
func messageError(status int, message string) *response {
	return jsonResponse(status, obj{{"message", message}})
}

// paramError is the body Grape produces when parameter validation fails:
// 400 {"error": "<param> <problem>, ..."}.
func paramError(message string) *response {
	return jsonResponse(http.StatusBadRequest, obj{{"error", message}})
}

func unauthorized() *response { return messageError(http.StatusUnauthorized, "401 Unauthorized") }

// forbidden is GitLab's forbidden!(reason): "403 Forbidden" or "403 Forbidden - reason".
func forbidden(reason string) *response {
	if reason == "" {
		return messageError(http.StatusForbidden, "403 Forbidden")
	}
	return messageError(http.StatusForbidden, "403 Forbidden - "+reason)
}

// badRequest is GitLab's bad_request!(reason).
func badRequest(reason string) *response {
	return messageError(http.StatusBadRequest, "400 Bad request - "+reason)
}

// notFoundResource is GitLab's not_found!('Group'): "404 Group Not Found".
func notFoundResource(resource string) *response {
	return messageError(http.StatusNotFound, "404 "+resource+" Not Found")
}

// recordNotFound is what GitLab answers when ActiveRecord::RecordNotFound escapes an
// endpoint (e.g. Ci::Runner.find): note the lower-case "found".
func recordNotFound() *response { return messageError(http.StatusNotFound, "404 Not found") }

// routeNotFound is the answer of GitLab's catch-all API route, which also catches a known
// path requested with a method it does not serve.
func routeNotFound() *response {
	return jsonResponse(http.StatusNotFound, obj{{"error", "404 Not Found"}})
}

// htmlPage imitates the static error pages GitLab's web tier serves outside the API, and
// that a proxy in front of GitLab serves for 502/503/504.
func htmlPage(status int) *response {
	text := http.StatusText(status)
	body := fmt.Sprintf("<!DOCTYPE html>\n<html>\n<head>\n  <meta content=\"width=device-width, initial-scale=1, maximum-scale=1\" name=\"viewport\">\n  <title>%s (%d)</title>\n</head>\n<body>\n  <h1>%d</h1>\n  <h2>%s</h2>\n  <p>GitLab is not responding. Please try again later.</p>\n</body>\n</html>\n",
		text, status, status, text)
	h := http.Header{}
	h.Set("Content-Type", "text/html; charset=utf-8")
	return &response{status: status, header: h, body: []byte(body)}
}

// obj is a JSON object whose keys keep the order in which GitLab's Grape entities expose
// them, so that bodies can be compared byte for byte with the documented ones.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(f.k)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.k, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// timeFormat is how Rails renders a TimeWithZone in JSON: UTC, millisecond precision.
const timeFormat = "2006-01-02T15:04:05.000Z"

// jsonTime renders a timestamp, or null for an unset one.
func jsonTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

func jsonTimeValue(t time.Time) any { return t.UTC().Format(timeFormat) }

// optString renders an optional string column: null when unset.
func optString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// optInt renders an optional integer column: null when unset.
func optInt(i *int64) any {
	if i == nil {
		return nil
	}
	return *i
}

func requestID() string {
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))[:26]
}

// toSentence joins validation messages the way Rails' Array#to_sentence does.
func toSentence(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	case 2:
		return parts[0] + " and " + parts[1]
	default:
		return strings.Join(parts[:len(parts)-1], ", ") + ", and " + parts[len(parts)-1]
	}
}

// unescapePath decodes an escaped URL path, returning it unchanged when it is malformed.
func unescapePath(p string) string {
	u, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return u
}
