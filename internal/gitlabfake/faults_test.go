package gitlabfake

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

func groupRunnerOptions(w *world) *gitlab.CreateUserRunnerOptions {
	return &gitlab.CreateUserRunnerOptions{RunnerType: gitlab.Ptr("group_type"), GroupID: gitlab.Ptr(w.acme.ID)}
}

// TestFaultStatusAfterCommit: the client sees a 502, yet the runner exists. With client-go's
// default retries the POST is sent again and a duplicate runner is created.
func TestFaultStatusAfterCommit(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Method: "POST", Path: "/api/v4/user/runners", Kind: FaultStatusAfterCommit, Status: 502})

	_, resp, err := newClient(t, s, w.ownerTok, gitlab.WithoutRetries()).Users.CreateUserRunner(groupRunnerOptions(w))
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 502 || !strings.HasPrefix(er.Message, "failed to parse unknown error format: <!DOCTYPE html>") {
		t.Fatalf("error = %v", err)
	}
	if resp == nil || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("502 response = %v", resp)
	}
	if n := len(s.Runners()); n != 1 {
		t.Fatalf("%d runners after a committed 502, want 1", n)
	}
	if calls := s.Calls(); calls[len(calls)-1].Status != 502 {
		t.Errorf("recorded status %d, want 502", calls[len(calls)-1].Status)
	}

	// Default client-go retries POST on 5xx: the ambiguous failure turns into a duplicate.
	s.Inject(Fault{Method: "POST", Path: "/api/v4/user/runners", Kind: FaultStatusAfterCommit, Status: 502})
	created, _, err := newClient(t, s, w.ownerTok).Users.CreateUserRunner(groupRunnerOptions(w))
	if err != nil {
		t.Fatalf("retried create: %v", err)
	}
	if n := len(s.Runners()); n != 3 {
		t.Errorf("%d runners after a retried committed 502, want 3 (one duplicate)", n)
	}
	if created.ID != s.Runners()[2].ID {
		t.Errorf("the client got runner %d, want the last one", created.ID)
	}
}

func TestFaultStatus(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Path: "/api/v4/user/runners", Kind: FaultStatus, Status: 503})
	s.Inject(Fault{Path: "/api/v4/runners/*", Kind: FaultStatus})

	do(t, s, req{method: "POST", path: "/api/v4/user/runners", token: w.ownerTok, json: `{"runner_type":"instance_type"}`}).
		expect(t, 503, `{"message":"503 Service Unavailable"}`)
	do(t, s, req{method: "GET", path: "/api/v4/runners/1", token: w.ownerTok}).expect(t, 500, `{"message":"500 Internal Server Error"}`)
	s.Inject(Fault{Path: "/api/v4/runners/*", Kind: FaultStatus, Status: 404})
	s.Inject(Fault{Path: "/api/v4/groups/*", Kind: FaultStatus, Status: 404})
	do(t, s, req{method: "GET", path: "/api/v4/runners/1", token: w.ownerTok}).expect(t, 404, recordNotFoundB)
	do(t, s, req{method: "GET", path: "/api/v4/groups/acme", token: w.ownerTok}).expect(t, 404, `{"message":"404 Group Not Found"}`)
	if n := len(s.Runners()); n != 0 {
		t.Errorf("FaultStatus performed the request: %d runners", n)
	}
	// Each fault hit once; the next requests are served normally.
	do(t, s, req{method: "GET", path: "/api/v4/runners/1", token: w.ownerTok}).expect(t, 404, recordNotFoundB)
}

// TestFaultDropConnection: a transport error, nothing done. TestFaultDropAfterCommit: a
// transport error, but the runner exists.
func TestFaultDrops(t *testing.T) {
	for _, tc := range []struct {
		kind    FaultKind
		runners int
	}{{FaultDropConnection, 0}, {FaultDropAfterCommit, 1}} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			w := newWorld(t)
			s := w.s
			s.Inject(Fault{Method: "POST", Path: "/api/v4/user/*", Kind: tc.kind})
			_, resp, err := newClient(t, s, w.ownerTok, gitlab.WithoutRetries()).Users.CreateUserRunner(groupRunnerOptions(w))
			var ue *url.Error
			if !errors.As(err, &ue) || resp != nil {
				t.Fatalf("error = %v (%T), response %v; want a transport *url.Error and no response", err, err, resp)
			}
			if n := len(s.Runners()); n != tc.runners {
				t.Errorf("%d runners, want %d", n, tc.runners)
			}
			calls := s.Calls()
			if len(calls) != 1 || calls[0].Status != 0 {
				t.Errorf("calls = %+v, want one with status 0", calls)
			}
		})
	}
}

func TestFaultRateLimit(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Path: "/api/v4/runners", Kind: FaultRateLimit, RetryAfter: 1500 * time.Millisecond})
	before := time.Now()
	rp := do(t, s, req{method: "GET", path: "/api/v4/runners", token: w.ownerTok})
	if rp.status != 429 || rp.body != "Retry later\n" || rp.header.Get("Content-Type") != "text/plain" {
		t.Errorf("throttled reply = %d %q %q", rp.status, rp.body, rp.header.Get("Content-Type"))
	}
	for _, h := range []string{"RateLimit-Name", "RateLimit-Limit", "RateLimit-Observed", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-ResetTime", "Retry-After"} {
		if rp.header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if rp.header.Get("Retry-After") != "2" || rp.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("Retry-After %q, Remaining %q", rp.header.Get("Retry-After"), rp.header.Get("RateLimit-Remaining"))
	}
	reset, err := strconv.ParseInt(rp.header.Get("RateLimit-Reset"), 10, 64)
	if err != nil || time.Unix(reset, 0).Before(before.Add(time.Second)) || time.Unix(reset, 0).After(time.Now().Add(3*time.Second)) {
		t.Errorf("RateLimit-Reset = %q, want an epoch about 2s ahead", rp.header.Get("RateLimit-Reset"))
	}
	if _, err := http.ParseTime(rp.header.Get("RateLimit-ResetTime")); err != nil {
		t.Errorf("RateLimit-ResetTime %q is not an HTTP date", rp.header.Get("RateLimit-ResetTime"))
	}

	// client-go waits until RateLimit-Reset and retries.
	s.Inject(Fault{Path: "/api/v4/runners", Kind: FaultRateLimit, RetryAfter: time.Second})
	start := time.Now()
	if _, _, err := newClient(t, s, w.ownerTok).Runners.ListRunners(nil); err != nil {
		t.Fatalf("ListRunners after one 429: %v", err)
	}
	if s.CountCalls("GET", "/api/v4/runners") != 3 {
		t.Errorf("calls = %+v", s.Calls())
	}
	t.Logf("client-go retried after %v", time.Since(start).Round(time.Millisecond))

	// Without retries the client surfaces the 429 as an ErrorResponse.
	s.Inject(Fault{Path: "/api/v4/runners", Kind: FaultRateLimit})
	_, _, err = newClient(t, s, w.ownerTok, gitlab.WithoutRetries()).Runners.ListRunners(nil)
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) || er.StatusCode != 429 || er.Message != "failed to parse unknown error format: Retry later\n" {
		t.Errorf("429 error = %v", err)
	}
}

func TestFaultRateLimitRetryAfterOnly(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Method: "POST", Path: "/api/v4/runners/verify", Kind: FaultRateLimitRetryAfterOnly})
	rp := do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"x"}`})
	rp.expect(t, 429, `{"message":"Executing database migrations. Please retry later."}`)
	if rp.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q, want 60", rp.header.Get("Retry-After"))
	}
	for h := range rp.header {
		if strings.HasPrefix(strings.ToLower(h), "ratelimit") {
			t.Errorf("unexpected header %s", h)
		}
	}
}

// TestFaultHang: the client's context deadline ends the call; Close releases hung requests.
func TestFaultHang(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Path: "/api/v4/runners/*", Kind: FaultHang, Times: 2})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := newClient(t, s, w.ownerTok).Runners.GetRunnerDetails(1, gitlab.WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the hung call took %v", d)
	}

	// A request hung without a deadline is released by Close.
	done := make(chan error, 1)
	go func() {
		_, _, err := newClient(t, s, w.ownerTok, gitlab.WithoutRetries()).Runners.GetRunnerDetails(1)
		done <- err
	}()
	deadline := time.Now().Add(2 * time.Second)
	for s.CountCalls("GET", "/api/v4/runners/1") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hung request")
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("the hung request succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hung client never returned")
	}
	for _, c := range s.Calls() {
		if c.Status != 0 {
			t.Errorf("hung call recorded with status %d", c.Status)
		}
	}
}

// TestFaultHangAfterCommit: the runner is created, the client times out without an answer.
func TestFaultHangAfterCommit(t *testing.T) {
	w := newWorld(t)
	s := w.s
	s.Inject(Fault{Method: "POST", Path: "/api/v4/user/runners", Kind: FaultHangAfterCommit})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := newClient(t, s, w.ownerTok).Users.CreateUserRunner(groupRunnerOptions(w), gitlab.WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	if n := len(s.Runners()); n != 1 {
		t.Errorf("%d runners, want 1", n)
	}
	if c := s.Calls(); len(c) != 1 || c[0].Status != 0 {
		t.Errorf("calls = %+v", c)
	}
}

// TestFaultMatching checks method and path matching, Times, order and ClearFaults.
func TestFaultMatching(t *testing.T) {
	w := newWorld(t)
	s := w.s
	get := func(path string) int {
		return do(t, s, req{method: "GET", path: path, token: w.ownerTok}).status
	}
	s.Inject(Fault{Method: "DELETE", Path: "/api/v4/runners/*", Kind: FaultStatus, Status: 418})
	if got := get("/api/v4/runners/1"); got != 404 {
		t.Errorf("a DELETE fault hit a GET: %d", got)
	}
	s.ClearFaults()

	s.Inject(Fault{Path: "/api/v4/groups/acme/*", Kind: FaultStatus, Status: 500, Times: 2})
	s.Inject(Fault{Path: "/api/v4/groups/*", Kind: FaultStatus, Status: 503})
	got := []int{get("/api/v4/groups/acme%2Fplatform"), get("/api/v4/groups/acme%2Fplatform"), get("/api/v4/groups/acme%2Fplatform"), get("/api/v4/groups/acme")}
	if want := []int{500, 500, 503, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v (decoded path matches, Times, then the next fault)", got, want)
	}
	if got := get("/api/v4/user"); got != 200 {
		t.Errorf("unmatched path got %d", got)
	}
	s.Inject(Fault{Path: "/api/v4/user", Kind: FaultStatus})
	s.ClearFaults()
	if got := get("/api/v4/user"); got != 200 {
		t.Errorf("after ClearFaults got %d", got)
	}
}

// TestCallsLog checks the request log: order, statuses, no secrets from headers or bodies.
func TestCallsLog(t *testing.T) {
	w := newWorld(t)
	s := w.s
	_, token := createRunner(t, s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`}`)
	do(t, s, req{method: "POST", path: "/api/v4/runners/verify", json: `{"token":"` + token + `"}`})
	do(t, s, req{method: "GET", path: "/api/v4/groups/acme%2Fplatform?with_projects=false", token: w.ownerTok})
	do(t, s, req{method: "GET", path: "/api/v4/runners", token: "glpat-bogus"})

	want := []Call{
		{"POST", "/api/v4/user/runners", "", 201},
		{"POST", "/api/v4/runners/verify", "", 200},
		{"GET", "/api/v4/groups/acme%2Fplatform", "with_projects=false", 200},
		{"GET", "/api/v4/runners", "", 401},
	}
	calls := s.Calls()
	if len(calls) != len(want) {
		t.Fatalf("calls = %+v", calls)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, calls[i], want[i])
		}
	}
	for _, c := range calls {
		if strings.Contains(c.Path+c.Query, "glrt-") || strings.Contains(c.Path+c.Query, "glpat-") {
			t.Errorf("call %+v holds a secret", c)
		}
	}
	if n := s.CountCalls("", "/api/v4/groups/acme/platform"); n != 1 {
		t.Errorf("CountCalls on the decoded path = %d, want 1", n)
	}
	if n := s.CountCalls("POST", "/api/v4/"); n != 2 {
		t.Errorf("CountCalls(POST) = %d, want 2", n)
	}
	// A token put in a query string is visible, which is what leak tests look for.
	do(t, s, req{method: "DELETE", path: "/api/v4/runners?token=" + token})
	if last := s.Calls()[len(s.Calls())-1]; !strings.Contains(last.Query, token) {
		t.Errorf("query token not recorded: %+v", last)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 {
		t.Error("ResetCalls kept calls")
	}
}

// TestHandlerWithoutListener serves the fake through Handler on a listener of its own.
func TestHandlerWithoutListener(t *testing.T) {
	s := newServer(nil)
	defer s.Close()
	u := s.AddUser("h", true)
	pat := s.AddToken(u, "api")
	hr, _ := http.NewRequest("GET", "http://gitlab.example/api/v4/user", nil)
	hr.Header.Set("PRIVATE-TOKEN", pat)
	rec := &recorder{header: http.Header{}}
	s.Handler().ServeHTTP(rec, hr)
	if rec.status != 200 || !strings.Contains(rec.body.String(), `"web_url":"http://gitlab.example/h"`) {
		t.Errorf("Handler: %d %s", rec.status, rec.body.String())
	}
	if s.URL() != "" {
		t.Errorf("URL of an unstarted server = %q", s.URL())
	}
}

type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
