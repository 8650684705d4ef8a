package gitlabfake

import (
	"strings"
	"testing"
)

// TestPaginationHeaders pins GitLab's offset pagination headers, Link included.
func TestPaginationHeaders(t *testing.T) {
	w := newWorld(t)
	s := w.s
	for range 45 {
		s.AddRunner(Runner{Type: "group_type", GroupID: w.acme.ID, RunUntagged: true, CreatorID: w.owner.ID})
	}
	base := s.URL() + "/api/v4/runners"
	link := func(page, perPage, rel string) string {
		return "<" + base + "?page=" + page + "&per_page=" + perPage + `>; rel="` + rel + `"`
	}
	tests := []struct {
		name                                    string
		query                                   string
		items                                   int
		page, perPage, next, prev, total, pages string
		links                                   []string
	}{
		{"default page", "", 20, "1", "20", "2", "", "45", "3",
			[]string{link("2", "20", "next"), link("1", "20", "first"), link("3", "20", "last")}},
		{"middle page", "?page=2", 20, "2", "20", "3", "1", "45", "3",
			[]string{link("1", "20", "prev"), link("3", "20", "next"), link("1", "20", "first"), link("3", "20", "last")}},
		{"last page", "?page=3", 5, "3", "20", "", "2", "45", "3",
			[]string{link("2", "20", "prev"), link("1", "20", "first"), link("3", "20", "last")}},
		{"out of range", "?page=9", 0, "9", "20", "", "", "45", "3",
			[]string{link("1", "20", "first"), link("3", "20", "last")}},
		{"per_page above the maximum is capped", "?per_page=500", 45, "1", "100", "", "", "45", "1",
			[]string{link("1", "100", "first"), link("1", "100", "last")}},
		{"negative per_page is the default", "?per_page=-3", 20, "1", "20", "2", "", "45", "3",
			[]string{link("2", "20", "next"), link("1", "20", "first"), link("3", "20", "last")}},
		{"page below one is page one", "?page=0&per_page=44", 44, "1", "44", "2", "", "45", "2",
			[]string{link("2", "44", "next"), link("1", "44", "first"), link("2", "44", "last")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp := do(t, s, req{method: "GET", path: "/api/v4/runners" + tc.query, token: w.ownerTok})
			var items []map[string]any
			rp.decode(t, &items)
			if len(items) != tc.items {
				t.Errorf("items = %d, want %d", len(items), tc.items)
			}
			for h, want := range map[string]string{"X-Page": tc.page, "X-Per-Page": tc.perPage, "X-Next-Page": tc.next,
				"X-Prev-Page": tc.prev, "X-Total": tc.total, "X-Total-Pages": tc.pages, "Link": strings.Join(tc.links, ", ")} {
				got, present := rp.header[h]
				if !present {
					t.Errorf("header %s missing", h)
				} else if got[0] != want {
					t.Errorf("%s = %q, want %q", h, got[0], want)
				}
			}
		})
	}

	// An empty list still reports one page.
	rp := do(t, s, req{method: "GET", path: "/api/v4/runners?type=project_type", token: w.ownerTok})
	rp.expect(t, 200, "[]")
	if rp.header.Get("X-Total") != "0" || rp.header.Get("X-Total-Pages") != "1" || rp.header.Get("X-Next-Page") != "" {
		t.Errorf("empty list headers: %v", rp.header)
	}

	// Filters and the route's :id travel in Link, sorted as Rails' to_query sorts them, with
	// tag_list in array form; a private_token never does.
	rp = do(t, s, req{method: "GET", path: "/api/v4/groups/acme/runners?type=group_type&tag_list=b,a&per_page=2&private_token=" + w.ownerTok})
	wantFirst := "<" + s.URL() + "/api/v4/groups/acme/runners?id=acme&page=1&per_page=2&tag_list%5B%5D=b&tag_list%5B%5D=a&type=group_type>; rel=\"first\""
	if l := rp.header.Get("Link"); !strings.Contains(l, wantFirst) || strings.Contains(l, "glpat-") {
		t.Errorf("Link = %q\nwant it to contain %q and no token", l, wantFirst)
	}
}

// TestPaginationWithoutCounts checks that above 10 000 rows GitLab stops counting.
func TestPaginationWithoutCounts(t *testing.T) {
	w := newWorld(t)
	for range countLimit + 1 {
		w.s.AddRunner(Runner{Type: "instance_type", RunUntagged: true})
	}
	rp := do(t, w.s, req{method: "GET", path: "/api/v4/runners/all?per_page=100&page=2", token: w.adminTok})
	if _, ok := rp.header["X-Total"]; ok {
		t.Error("X-Total present above the count limit")
	}
	if _, ok := rp.header["X-Total-Pages"]; ok {
		t.Error("X-Total-Pages present above the count limit")
	}
	if rp.header.Get("X-Next-Page") != "3" || rp.header.Get("X-Prev-Page") != "1" || strings.Contains(rp.header.Get("Link"), `rel="last"`) {
		t.Errorf("headers: next %q prev %q link %q", rp.header.Get("X-Next-Page"), rp.header.Get("X-Prev-Page"), rp.header.Get("Link"))
	}
}
