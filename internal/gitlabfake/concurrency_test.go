package gitlabfake

import (
	"sync"
	"testing"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// TestConcurrentUse creates, reads and lists runners from many goroutines at once (run it
// with -race), and checks that IDs and tokens stay unique.
func TestConcurrentUse(t *testing.T) {
	w := newWorld(t)
	s := w.s
	const workers, perWorker = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		c := newClient(t, s, w.ownerTok, gitlab.WithoutRetries())
		wg.Go(func() {
			for range perWorker {
				r, _, err := c.Users.CreateUserRunner(groupRunnerOptions(w))
				if err != nil {
					errs <- err
					continue
				}
				if _, _, err := c.Runners.GetRunnerDetails(r.ID); err != nil {
					errs <- err
				}
				if _, _, err := c.Runners.ListRunners(nil); err != nil {
					errs <- err
				}
				_ = s.Calls()
				_ = s.Runners()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runners := s.Runners()
	if len(runners) != workers*perWorker {
		t.Fatalf("%d runners, want %d", len(runners), workers*perWorker)
	}
	ids, tokens := map[int64]bool{}, map[string]bool{}
	for _, r := range runners {
		if ids[r.ID] || tokens[r.Token] {
			t.Fatalf("duplicate runner ID or token for runner %d", r.ID)
		}
		ids[r.ID], tokens[r.Token] = true, true
	}
}

// TestSnapshotsAreCopies checks that callers cannot reach into the store through snapshots.
func TestSnapshotsAreCopies(t *testing.T) {
	w := newWorld(t)
	id, _ := createRunner(t, w.s, w.ownerTok, `{"runner_type":"group_type","group_id":`+itoa(w.acme.ID)+`,"tag_list":["a"]}`)
	r, _ := w.s.Runner(id)
	r.Tags[0] = "mutated"
	w.s.Runners()[0].Tags[0] = "mutated"
	if again, _ := w.s.Runner(id); again.Tags[0] != "a" {
		t.Errorf("store changed through a snapshot: %q", again.Tags)
	}
}
