package rewrite

import (
	"bytes"
	"io"

	"go.yaml.in/yaml/v3"
)

// wideSequences reports whether a YAML text indents the items of a block sequence under their key
// ("key:\n  - a", as Helm chart templates often do) rather than at the key's column ("key:\n- a", as
// kyaml and so Helm 4 write). The first sequence whose key line can be told decides.
func wideSequences(text []byte) bool {
	var prev []byte // the last line that is neither blank nor a comment
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		line = bytes.TrimRight(line, "\r")
		content := bytes.TrimLeft(line, " ")
		if len(content) == 0 || content[0] == '#' {
			continue
		}
		if bytes.HasPrefix(content, []byte("- ")) || bytes.Equal(content, []byte("-")) {
			key := bytes.TrimLeft(prev, " ")
			// Only a line that is nothing but "key:" opens the sequence on the next line.
			if len(key) > 1 && key[len(key)-1] == ':' && bytes.Count(key, []byte(":")) == 1 {
				return len(line)-len(content) == len(prev)-len(key)+2
			}
		}
		prev = line
	}
	return false
}

// newEncoder encodes YAML the way the rewritten documents are written: two-space indentation, and
// sequences in the style of the text they came from.
func newEncoder(w io.Writer, wide bool) *yaml.Encoder {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if !wide {
		enc.CompactSeqIndent()
	}
	return enc
}
