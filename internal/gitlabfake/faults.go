package gitlabfake

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind selects what an injected fault does to a matching request.
type FaultKind int

const (
	// FaultStatus answers Status (default 500) with the JSON error body GitLab gives for that
	// status on that path (e.g. {"message":"404 Not found"} on /runners/:id) and does not
	// perform the request.
	FaultStatus FaultKind = iota
	// FaultStatusAfterCommit performs the request (e.g. creates the runner) and then answers
	// Status (default 502) with the HTML error page a proxy in front of GitLab serves: the
	// client sees a failure for a change that did happen.
	FaultStatusAfterCommit
	// FaultRateLimit answers like Rack::Attack: 429, text/plain "Retry later\n", the
	// RateLimit-* headers (RateLimit-Reset as Unix epoch seconds) and Retry-After.
	FaultRateLimit
	// FaultRateLimitRetryAfterOnly answers like GitLab's database-migration back-off:
	// 429 {"message":"Executing database migrations. Please retry later."} with only a
	// Retry-After header.
	FaultRateLimitRetryAfterOnly
	// FaultHang holds the request without answering until the client gives up (its context
	// or connection ends) or the server is closed, then drops the connection.
	FaultHang
	// FaultDropConnection closes the connection without any response and without performing
	// the request.
	FaultDropConnection
	// FaultDropAfterCommit performs the request, then closes the connection without a
	// response.
	FaultDropAfterCommit
	// FaultHangAfterCommit performs the request, then behaves like FaultHang: the change is
	// made but the client never hears about it (a timeout or a killed client).
	FaultHangAfterCommit
)

func (k FaultKind) String() string {
	switch k {
	case FaultStatus:
		return "FaultStatus"
	case FaultStatusAfterCommit:
		return "FaultStatusAfterCommit"
	case FaultRateLimit:
		return "FaultRateLimit"
	case FaultRateLimitRetryAfterOnly:
		return "FaultRateLimitRetryAfterOnly"
	case FaultHang:
		return "FaultHang"
	case FaultDropConnection:
		return "FaultDropConnection"
	case FaultDropAfterCommit:
		return "FaultDropAfterCommit"
	case FaultHangAfterCommit:
		return "FaultHangAfterCommit"
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault describes a failure to inject.
type Fault struct {
	Method string // "" matches any method
	// Path is an exact path ("/api/v4/user/runners") or a prefix ending in "*"
	// ("/api/v4/runners/*"). It is compared with the decoded and with the escaped path.
	Path   string
	Kind   FaultKind
	Status int // for FaultStatus (default 500) and FaultStatusAfterCommit (default 502)
	// RetryAfter is the wait the rate-limit faults announce, rounded up to whole seconds.
	// Zero means 1s for FaultRateLimit (so that client-go, which sleeps until
	// RateLimit-Reset, retries promptly) and GitLab's fixed 60s for
	// FaultRateLimitRetryAfterOnly.
	RetryAfter time.Duration
	Times      int // how many matching requests the fault hits; 0 means 1
}

type activeFault struct {
	Fault
	remaining int
}

// Inject adds a fault. Faults are tried in the order injected; the first one with hits
// left that matches a request applies to it.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := f.Times
	if n <= 0 {
		n = 1
	}
	s.faults = append(s.faults, &activeFault{Fault: f, remaining: n})
}

// ClearFaults removes every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	for _, p := range []string{r.URL.Path, r.URL.EscapedPath()} {
		if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
			if strings.HasPrefix(p, prefix) {
				return true
			}
		} else if p == f.Path {
			return true
		}
	}
	return false
}

// takeFault consumes one hit of the first matching fault.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.matches(r) {
			continue
		}
		f.remaining--
		if f.remaining <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		applied := f.Fault
		return &applied
	}
	return nil
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, rec *Call, f *Fault) {
	switch f.Kind {
	case FaultStatus:
		status := statusOr(f.Status, http.StatusInternalServerError)
		resp := messageError(status, gitlabStatusMessage(status, r.URL.Path))
		s.setCallStatus(rec, status)
		resp.writeTo(w)
	case FaultStatusAfterCommit:
		s.dispatch(r) // commit, and throw the real answer away
		status := statusOr(f.Status, http.StatusBadGateway)
		s.setCallStatus(rec, status)
		htmlPage(status).writeTo(w)
	case FaultRateLimit:
		resp := rackAttackThrottled(retryAfterSeconds(f.RetryAfter, 1))
		s.setCallStatus(rec, resp.status)
		resp.writeTo(w)
	case FaultRateLimitRetryAfterOnly:
		resp := messageError(http.StatusTooManyRequests, "Executing database migrations. Please retry later.")
		resp.header.Set("Retry-After", strconv.Itoa(retryAfterSeconds(f.RetryAfter, 60)))
		s.setCallStatus(rec, resp.status)
		resp.writeTo(w)
	case FaultHang:
		s.hang(r)
		dropConnection(w)
	case FaultHangAfterCommit:
		s.dispatch(r)
		s.hang(r)
		dropConnection(w)
	case FaultDropConnection:
		dropConnection(w)
	case FaultDropAfterCommit:
		s.dispatch(r)
		dropConnection(w)
	default:
		panic(fmt.Sprintf("gitlabfake: unknown fault kind %v", f.Kind))
	}
}

// hang waits until the client goes away or the server closes.
func (s *Server) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
}

// gitlabStatusMessage is the message GitLab's helpers put in {"message": ...} for a status:
// not_found! names the resource for groups and projects, a missing record says
// "Not found", bad_request! says "Bad request", and the rest use the HTTP reason phrase.
func gitlabStatusMessage(status int, path string) string {
	switch status {
	case http.StatusBadRequest:
		return "400 Bad request"
	case http.StatusNotFound:
		switch {
		case strings.HasPrefix(path, apiPrefix+"/groups/"):
			return "404 Group Not Found"
		case strings.HasPrefix(path, apiPrefix+"/projects/"):
			return "404 Project Not Found"
		case strings.HasPrefix(path, apiPrefix+"/runners/"):
			return "404 Not found"
		}
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

func statusOr(status, def int) int {
	if status == 0 {
		return def
	}
	return status
}

func retryAfterSeconds(d time.Duration, def int) int {
	if d <= 0 {
		return def
	}
	return int(math.Ceil(d.Seconds()))
}

// rackAttackThrottled reproduces Gitlab::RackAttack's throttled response. The reset time
// uses the wall clock even under WithClock: clients sleep on it in real time.
func rackAttackThrottled(retryAfter int) *response {
	const limit = 2000 // requests per period, as GitLab normalises it to 60s
	reset := time.Now().Add(time.Duration(retryAfter) * time.Second).Truncate(time.Second)
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Limit", strconv.Itoa(limit))
	h.Set("RateLimit-Observed", strconv.Itoa(limit+1))
	h.Set("RateLimit-Remaining", "0")
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	return &response{status: http.StatusTooManyRequests, header: h, body: []byte("Retry later\n")}
}

// dropConnection closes the client's connection without writing a response. Outside an
// HTTP/1 server connection (no hijacking) it aborts the handler, which net/http turns
// into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
