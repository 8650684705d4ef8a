package rules

import "sort"

// Finding is one place that depends on legacy runner registration.
type Finding struct {
	Rule     *Rule
	Severity Severity
	File     string // as the user named it; "-" for stdin
	Line     int    // 1-based; 0 when the file as a whole
	Column   int
	Path     string // the values key (gitlab-runner.runners.tags) or object field (Secret ci/x data.runner-token)
	Message  string // why this place breaks, on which GitLab version
	Fix      string // what to do here
}

// Sort orders findings by file, line, column, rule and path.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule.ID != b.Rule.ID {
			return a.Rule.ID < b.Rule.ID
		}
		return a.Path < b.Path
	})
}
