package rewrite

import (
	"fmt"
	"strings"
)

// Error is a problem with one object of the stream, said the way a person fixes it: which object,
// where, which field, what is wrong and what to do.
type Error struct {
	Object  Ref    // zero when the problem is not about one object
	Line    int    // stream line, 0 when unknown
	Field   string // path inside the object, e.g. data.runner-token
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Object.Kind != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s (line %d)", e.Object, e.Line)
	case e.Object.Kind != "":
		b.WriteString(e.Object.String())
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	}
	if e.Field != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Field)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("\n  fix: ")
		b.WriteString(e.Fix)
	}
	return b.String()
}
