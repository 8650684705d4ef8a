package gitlabfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// params are the request parameters the way Grape sees them: query string, then the body
// (JSON, form or multipart) on top. Values are what encoding/json produces with UseNumber
// (string, json.Number, bool, nil, []any, map[string]any); form values become strings,
// "key[]" becomes a []any and "key[sub]" a map, as Rack parses them.
type params map[string]any

// errMalformedBody is Grape's answer to a body that does not parse as its Content-Type.
var errMalformedBody = errors.New("message body does not match declared format")

// maxBodyBytes bounds what the fake reads from a request body.
const maxBodyBytes = 10 << 20

func readParams(r *http.Request) (params, error) {
	p := params{}
	mergeValues(p, r.URL.Query())
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return p, nil
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			return nil, errMalformedBody
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, errMalformedBody
		}
		if m, ok := v.(map[string]any); ok {
			for k, val := range m {
				p[k] = val
			}
		}
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			return nil, errMalformedBody
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errMalformedBody
		}
		mergeValues(p, vals)
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			return nil, errMalformedBody
		}
		mergeValues(p, r.MultipartForm.Value)
	}
	return p, nil
}

// mergeValues adds form-style values, keeping Rack's conventions: a repeated plain key keeps
// its last value, "k[]" collects an array, "k[sub]" builds a hash.
func mergeValues(p params, vals map[string][]string) {
	for key, vs := range vals {
		if len(vs) == 0 {
			continue
		}
		if base, ok := strings.CutSuffix(key, "[]"); ok {
			arr := make([]any, len(vs))
			for i, v := range vs {
				arr[i] = v
			}
			p[base] = arr
			continue
		}
		if i := strings.Index(key, "["); i > 0 && strings.HasSuffix(key, "]") {
			base, sub := key[:i], key[i+1:len(key)-1]
			m, _ := p[base].(map[string]any)
			if m == nil {
				m = map[string]any{}
				p[base] = m
			}
			m[sub] = vs[len(vs)-1]
			continue
		}
		p[key] = vs[len(vs)-1]
	}
}

// pstate is the outcome of reading one parameter.
type pstate int

const (
	absent  pstate = iota // not sent
	null                  // sent as JSON null
	valid                 // sent and coerced
	invalid               // sent but cannot be coerced to the declared type
)

func (p params) has(name string) bool {
	_, ok := p[name]
	return ok
}

// str coerces like Grape's String type: scalars become their text, arrays and hashes fail.
func (p params) str(name string) (string, pstate) {
	v, ok := p[name]
	if !ok {
		return "", absent
	}
	switch v := v.(type) {
	case nil:
		return "", null
	case string:
		return v, valid
	case json.Number:
		return v.String(), valid
	case bool:
		return strconv.FormatBool(v), valid
	}
	return "", invalid
}

// Grape's Boolean coercion (dry-types Params::Bool) accepts these spellings.
var (
	trueWords  = map[string]bool{"1": true, "on": true, "t": true, "true": true, "y": true, "yes": true}
	falseWords = map[string]bool{"0": true, "off": true, "f": true, "false": true, "n": true, "no": true}
)

func (p params) boolean(name string) (bool, pstate) {
	v, ok := p[name]
	if !ok {
		return false, absent
	}
	switch v := v.(type) {
	case nil:
		return false, null
	case bool:
		return v, valid
	case string:
		w := strings.ToLower(strings.TrimSpace(v))
		if trueWords[w] {
			return true, valid
		}
		if falseWords[w] {
			return false, valid
		}
	case json.Number:
		switch v.String() {
		case "1":
			return true, valid
		case "0":
			return false, valid
		}
	}
	return false, invalid
}

var integerText = regexp.MustCompile(`^\s*[-+]?\d+\s*$`)

func (p params) integer(name string) (int64, pstate) {
	v, ok := p[name]
	if !ok {
		return 0, absent
	}
	switch v := v.(type) {
	case nil:
		return 0, null
	case string:
		if integerText.MatchString(v) {
			if i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return i, valid
			}
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, valid
		}
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<62 {
			return int64(f), valid
		}
	}
	return 0, invalid
}

// strList coerces like GitLab's CommaSeparatedToArray: a string is split on commas, and so
// is every element of an array; entries are stripped.
func (p params) strList(name string) ([]string, pstate) {
	v, ok := p[name]
	if !ok {
		return nil, absent
	}
	var raw []string
	switch v := v.(type) {
	case nil:
		return nil, null
	case string:
		raw = []string{v}
	case []any:
		for _, e := range v {
			switch e := e.(type) {
			case string:
				raw = append(raw, e)
			case json.Number:
				raw = append(raw, e.String())
			case bool:
				raw = append(raw, strconv.FormatBool(e))
			default:
				return nil, invalid
			}
		}
	default:
		return nil, invalid
	}
	out := []string{}
	for _, s := range raw {
		for part := range strings.SplitSeq(s, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out, valid
}

// hash returns a nested parameter hash such as the legacy registration's info{}.
func (p params) hash(name string) params {
	m, _ := p[name].(map[string]any)
	return params(m)
}

// paramErrors collects Grape validation failures in declaration order; the response joins
// them with ", " into {"error": ...}.
type paramErrors []string

func (e *paramErrors) add(attr, problem string) { *e = append(*e, attr+" "+problem) }

func (e paramErrors) response() *response {
	if len(e) == 0 {
		return nil
	}
	return paramError(strings.Join(e, ", "))
}

// Helpers that read one declared parameter, record Grape's error for a bad value, and
// report whether a usable value was sent.

func (p params) optString(errs *paramErrors, name string) (*string, bool) {
	return optional(errs, name, p.str)
}

func (p params) optBool(errs *paramErrors, name string) (bool, bool) {
	v, st := p.boolean(name)
	if st == invalid {
		errs.add(name, "is invalid")
	}
	return v, st == valid
}

func (p params) optInt(errs *paramErrors, name string) (*int64, bool) {
	return optional(errs, name, p.integer)
}

// optional reads a parameter that may be null: a value, nil for an explicit null, and false
// when it was not sent or (with Grape's error recorded) was not valid.
func optional[T any](errs *paramErrors, name string, read func(string) (T, pstate)) (*T, bool) {
	v, st := read(name)
	switch st {
	case valid:
		return &v, true
	case null:
		return nil, true
	case invalid:
		errs.add(name, "is invalid")
	}
	return nil, false
}

func (p params) optEnum(errs *paramErrors, name string, allowed ...string) (string, bool) {
	v, st := p.str(name)
	switch st {
	case valid:
		for _, a := range allowed {
			if v == a {
				return v, true
			}
		}
		errs.add(name, "does not have a valid value")
	case invalid:
		errs.add(name, "is invalid")
	}
	return "", false
}

func (p params) optList(errs *paramErrors, name string) ([]string, bool) {
	v, st := p.strList(name)
	switch st {
	case valid:
		return v, true
	case null:
		return []string{}, true
	case invalid:
		errs.add(name, "is invalid")
	}
	return nil, false
}
