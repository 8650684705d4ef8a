package gitlabfake

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// GitLab's offset pagination (Gitlab::Pagination::OffsetPagination over Kaminari).
const (
	defaultPerPage = 20
	maxPerPage     = 100
	// Above this many rows GitLab stops counting: X-Total, X-Total-Pages and rel="last"
	// are left out.
	countLimit = 10000
)

type pageRequest struct{ page, perPage int }

// pagination reads the page and per_page parameters the way GitLab's :pagination params
// and Kaminari treat them: per_page=0 is rejected, anything above 100 is capped, a
// negative per_page falls back to the default, and a page below 1 is page 1.
func (p params) pagination(errs *paramErrors) pageRequest {
	pr := pageRequest{page: 1, perPage: defaultPerPage}
	if v, ok := p.optInt(errs, "page"); ok && v != nil && *v > 1 {
		pr.page = int(min(*v, 1<<31))
	}
	if v, ok := p.optInt(errs, "per_page"); ok && v != nil {
		switch n := *v; {
		case n == 0:
			errs.add("per_page", "has a value not allowed")
		case n > maxPerPage:
			pr.perPage = maxPerPage
		case n > 0:
			pr.perPage = int(n)
		}
	}
	return pr
}

// paginate renders one page of items with GitLab's pagination headers.
func paginate[T any](c *call, pr pageRequest, items []T, render func(T) any) *response {
	total := len(items)
	offset := (pr.page - 1) * pr.perPage
	pageItems := []any{}
	for i := offset; i >= 0 && i < total && i < offset+pr.perPage; i++ {
		pageItems = append(pageItems, render(items[i]))
	}
	resp := jsonResponse(http.StatusOK, pageItems)
	h := resp.header

	counted := total <= countLimit
	totalPages := (total + pr.perPage - 1) / pr.perPage
	next, prev := "", ""
	if counted {
		// Kaminari: no next page on the last page, and neither next nor prev when the page is
		// out of range.
		if pr.page < totalPages {
			next = strconv.Itoa(pr.page + 1)
		}
		if pr.page > 1 && pr.page <= totalPages {
			prev = strconv.Itoa(pr.page - 1)
		}
	} else {
		if offset+pr.perPage < total {
			next = strconv.Itoa(pr.page + 1)
		}
		if pr.page > 1 {
			prev = strconv.Itoa(pr.page - 1)
		}
	}
	h.Set("X-Per-Page", strconv.Itoa(pr.perPage))
	h.Set("X-Page", strconv.Itoa(pr.page))
	h.Set("X-Next-Page", next)
	h.Set("X-Prev-Page", prev)

	var links []string
	if prev != "" {
		links = append(links, `<`+c.pageURL(prev, pr.perPage)+`>; rel="prev"`)
	}
	if next != "" {
		links = append(links, `<`+c.pageURL(next, pr.perPage)+`>; rel="next"`)
	}
	links = append(links, `<`+c.pageURL("1", pr.perPage)+`>; rel="first"`)
	if counted {
		// GitLab reports at least one page, even for an empty list.
		lastPage := strconv.Itoa(max(totalPages, 1))
		links = append(links, `<`+c.pageURL(lastPage, pr.perPage)+`>; rel="last"`)
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", lastPage)
	}
	h.Set("Link", strings.Join(links, ", "))
	return resp
}

// pageURL rebuilds the request URL for another page the way GitLab's page_href does: the
// request's parameters (route :id included) plus page and per_page, keys sorted and
// encoded like Rails' to_query, array parameters as key[]=value.
func (c *call) pageURL(page string, perPage int) string {
	q := url.Values{}
	for k, vs := range c.r.URL.Query() {
		if k == "private_token" {
			continue // never echo a credential into a URL
		}
		if base, isArray := strings.CutSuffix(k, "[]"); isArray {
			q[base+"[]"] = vs
			continue
		}
		if k == "tag_list" {
			// Grape has already coerced tag_list into an array, which to_query renders as
			// tag_list[]=a&tag_list[]=b.
			list, _ := c.params.strList("tag_list")
			q["tag_list[]"] = list
			continue
		}
		q[k] = vs[len(vs)-1:]
	}
	if id, ok := c.vars["id"]; ok {
		q.Set("id", id)
	}
	q.Set("page", page)
	q.Set("per_page", strconv.Itoa(perPage))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return c.baseURL() + c.r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}
