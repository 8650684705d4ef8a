package rewrite

import (
	"fmt"
	"regexp"
	"strings"
)

// refusedOptions are the `gitlab-runner register` options GitLab owns once a runner registers with an
// authentication token (ensureServerConfigArgsEmpty); given with a glrt- token they are FATAL. The
// value says whether the option may take its value as the next word (`--access-level ref_protected`);
// the boolean ones only take `=value`.
var refusedOptions = map[string]bool{
	"--locked":           false,
	"--run-untagged":     false,
	"--paused":           false,
	"--access-level":     true,
	"--maximum-timeout":  true,
	"--tag-list":         true,
	"--maintenance-note": true,
}

// replicasGuardMessage is what the 0.34-0.53 entrypoint prints before it refuses to start.
const replicasGuardMessage = "Using a runner token with more than 1 replica is not supported."

var (
	registerCall = regexp.MustCompile(`(^|[\s;&|(])(\S*/entrypoint|\S*gitlab-runner)\s+register(\s|$)`)
	assignment   = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)
	varRef       = regexp.MustCompile(`^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$`)
)

// script is a shell script as lines, each with its line end, so edits keep everything else intact.
type script struct{ lines []string }

func parseScript(s string) *script { return &script{lines: strings.SplitAfter(s, "\n")} }

func (s *script) String() string { return strings.Join(s.lines, "") }

// registerCommand returns the first and last line of the `register` invocation (it continues while a
// line ends in a backslash), or -1, -1.
func (s *script) registerCommand() (int, int) {
	for i, l := range s.lines {
		// The substring test keeps the regexp, which backtracks, off the lines that cannot match.
		if !strings.Contains(l, "register") || isComment(l) || !registerCall.MatchString(l) {
			continue
		}
		j := i
		for j+1 < len(s.lines) && continues(s.lines[j]) {
			j++
		}
		return i, j
	}
	return -1, -1
}

func isComment(line string) bool { return strings.HasPrefix(strings.TrimSpace(line), "#") }

func continues(line string) bool { return strings.HasSuffix(strings.TrimRight(line, " \t\r\n"), `\`) }

// assignments returns the first value given to each shell variable before line end; the first one is
// what the chart rendered from values, later ones are the run-time checks that blank them.
func (s *script) assignments(end int) map[string]string {
	vars := map[string]string{}
	for _, l := range s.lines[:end] {
		if m := assignment.FindStringSubmatch(strings.TrimRight(l, "\r\n")); m != nil {
			if _, seen := vars[m[1]]; !seen {
				vars[m[1]] = unquote(strings.TrimSpace(m[2]))
			}
		}
	}
	return vars
}

// registerOptions lists the long options the register command passes, with `${VAR}` words expanded
// from the script's own assignments. Options without a value read as "true".
func (s *script) registerOptions() map[string]string {
	first, last := s.registerCommand()
	if first < 0 {
		return nil
	}
	vars := s.assignments(first)
	var args []string
	for _, l := range s.lines[first : last+1] {
		for _, w := range shellWords(trimContinuation(l)) {
			if m := varRef.FindStringSubmatch(w.text); m != nil {
				for _, x := range shellWords(vars[m[1]]) {
					args = append(args, x.text)
				}
				continue
			}
			args = append(args, w.text)
		}
	}
	opts := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			continue
		}
		if !hasValue {
			value = "true"
			if takesValue(name) && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				value = args[i+1]
				i++
			}
		}
		opts[name] = value
	}
	return opts
}

// takesValue reports whether an option's value may follow as the next word.
func takesValue(name string) bool {
	if v, refused := refusedOptions[name]; refused {
		return v
	}
	switch name {
	case "--name", "--description", "--url", "--executor", "--template-config", "--registration-token", "--token":
		return true
	}
	return false
}

// removeRefusedOptions deletes the refused options (and their values) from the register command and
// returns the ones it removed. A line left with nothing but its continuation goes; when the command's
// last line goes, the new last line loses its backslash.
func (s *script) removeRefusedOptions() []string {
	first, last := s.registerCommand()
	if first < 0 {
		return nil
	}
	var removed []string
	pendingValue := false
	keep := make([]bool, len(s.lines))
	for i := range s.lines {
		keep[i] = true
	}
	for i := first; i <= last; i++ {
		line := s.lines[i]
		body := trimContinuation(line)
		var cut [][2]int
		for _, w := range shellWords(body) {
			if pendingValue {
				pendingValue = false
				if !strings.HasPrefix(w.text, "-") {
					cut = append(cut, [2]int{w.start, w.end})
					continue
				}
			}
			name, _, hasValue := strings.Cut(w.text, "=")
			takes, refused := refusedOptions[name]
			if !refused {
				continue
			}
			removed = append(removed, name)
			cut = append(cut, [2]int{w.start, w.end})
			pendingValue = takes && !hasValue
		}
		if len(cut) == 0 {
			continue
		}
		edited := cutSpans(body, cut)
		if strings.TrimSpace(edited) == "" {
			keep[i] = false
			continue
		}
		s.lines[i] = edited + line[len(body):]
	}
	if !keep[last] {
		// The command's end moved up: its new last line must not continue into the next statement.
		for i := last - 1; i >= first; i-- {
			if keep[i] {
				s.lines[i] = dropContinuation(s.lines[i])
				break
			}
		}
	}
	s.lines = filterLines(s.lines, keep)
	return removed
}

// blankRefusedAssignments empties shell variables, assigned before the register command, whose value
// carries a refused option (RUN_UNTAGGED="--run-untagged=true" feeding `${RUN_UNTAGGED}`).
func (s *script) blankRefusedAssignments() []string {
	first, _ := s.registerCommand()
	if first < 0 {
		return nil
	}
	var removed []string
	for i, l := range s.lines[:first] {
		m := assignment.FindStringSubmatch(strings.TrimRight(l, "\r\n"))
		if m == nil {
			continue
		}
		for _, w := range shellWords(unquote(strings.TrimSpace(m[2]))) {
			name, _, _ := strings.Cut(w.text, "=")
			if _, refused := refusedOptions[name]; refused {
				removed = append(removed, name)
				eq := strings.Index(l, m[1]+"=") + len(m[1]) + 1
				s.lines[i] = l[:eq] + `""` + lineEnd(l)
				break
			}
		}
	}
	return removed
}

// removeReplicasGuard deletes the 0.34-0.53 `if ... fi` block that stops a pod holding a runner token
// when replicas != 1 (the chart allows several replicas with a runner token since 0.54).
func (s *script) removeReplicasGuard() (bool, error) {
	msg := -1
	for i, l := range s.lines {
		if strings.Contains(l, replicasGuardMessage) && !isComment(l) && !strings.Contains(l, "fail ") {
			msg = i
			break
		}
	}
	if msg < 0 {
		return false, nil
	}
	start := -1
	for i := msg - 1; i >= 0; i-- {
		if t := strings.TrimSpace(s.lines[i]); strings.HasPrefix(t, "if ") && strings.Contains(t, "CI_SERVER_TOKEN") {
			start = i
			break
		}
	}
	end := -1
	depth := 0
	for i := start; start >= 0 && i < len(s.lines); i++ {
		t := strings.TrimSpace(s.lines[i])
		if strings.HasPrefix(t, "if ") {
			depth++
		}
		if t == "fi" || strings.HasPrefix(t, "fi ") || strings.HasPrefix(t, "fi;") {
			depth--
			if depth == 0 {
				end = i
				break
			}
		}
	}
	if start < 0 || end < 0 {
		return false, fmt.Errorf("the replicas guard (%q) is not in an if ... fi block runner-migrate recognises", replicasGuardMessage)
	}
	keep := make([]bool, len(s.lines))
	for i := range keep {
		keep[i] = i < start || i > end
	}
	s.lines = filterLines(s.lines, keep)
	return true, nil
}

func filterLines(lines []string, keep []bool) []string {
	out := lines[:0]
	for i, l := range lines {
		if keep[i] {
			out = append(out, l)
		}
	}
	return out
}

// trimContinuation returns a line without its end and its trailing backslash.
func trimContinuation(line string) string {
	body := strings.TrimRight(line, "\r\n")
	t := strings.TrimRight(body, " \t")
	if strings.HasSuffix(t, `\`) {
		return strings.TrimRight(t[:len(t)-1], " \t")
	}
	return body
}

func dropContinuation(line string) string { return trimContinuation(line) + lineEnd(line) }

func lineEnd(line string) string {
	switch {
	case strings.HasSuffix(line, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(line, "\n"):
		return "\n"
	}
	return ""
}

// cutSpans removes byte spans from a line with the blank that separated each from its neighbour; a
// span that starts the line's text takes the blank after it, so the indentation stays.
func cutSpans(line string, spans [][2]int) string {
	var b strings.Builder
	prev := 0
	for _, sp := range spans {
		start, end := sp[0], sp[1]
		if strings.TrimLeft(line[:start], " \t") == "" {
			for end < len(line) && (line[end] == ' ' || line[end] == '\t') {
				end++
			}
		} else {
			for start > prev && (line[start-1] == ' ' || line[start-1] == '\t') {
				start--
			}
		}
		b.WriteString(line[prev:start])
		prev = end
	}
	b.WriteString(line[prev:])
	return b.String()
}

// word is a shell word: its unquoted text and its byte span in the line.
type word struct {
	text       string
	start, end int
}

// shellWords splits a line into words the way sh does for simple commands: blanks separate, quotes
// group, a backslash escapes. A comment ends the line. It does not expand anything.
func shellWords(line string) []word {
	var words []word
	var b strings.Builder
	start, in := -1, false
	var quote byte
	flush := func(end int) {
		if in {
			words = append(words, word{text: b.String(), start: start, end: end})
		}
		b.Reset()
		in = false
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				b.WriteByte(line[i])
			} else {
				b.WriteByte(c)
			}
		case c == ' ' || c == '\t':
			flush(i)
		case c == '#' && !in:
			flush(i)
			return words
		default:
			if !in {
				in, start = true, i
			}
			switch c {
			case '"', '\'':
				quote = c
			case '\\':
				if i+1 == len(line) {
					// A line-ending backslash continues the command; it is no word.
					if b.Len() == 0 && i == start {
						in = false
					}
					continue
				}
				i++
				b.WriteByte(line[i])
			default:
				b.WriteByte(c)
			}
		}
	}
	flush(len(line))
	return words
}

// unquote strips one level of shell quotes from a whole value.
func unquote(v string) string {
	if ws := shellWords(v); len(ws) == 1 && ws[0].start == 0 && ws[0].end == len(v) {
		return ws[0].text
	}
	return v
}
