package rewrite

import "errors"

// Filter is one concern of a rewrite, applied to the stream in place (kyaml's kio.Filter, over a
// stream that keeps its bytes).
type Filter interface {
	Filter(*Stream) error
}

// FilterFunc adapts a function to Filter.
type FilterFunc func(*Stream) error

// Filter implements Filter.
func (f FilterFunc) Filter(s *Stream) error { return f(s) }

// Pipeline runs filters in order and stops at the first that fails.
type Pipeline []Filter

// Filter implements Filter.
func (p Pipeline) Filter(s *Stream) error {
	for _, f := range p {
		if err := f.Filter(s); err != nil {
			return err
		}
	}
	return nil
}

// Patches are the filters that migrate every site holding an AuthToken, and repair those that keep a
// token of their own but pass settings GitLab refuses with it, in the order they must run.
var Patches = Pipeline{PatchTokenCarrier{}, PatchScripts{}, PatchEnv{}, RollPods{}}

// eachMigrating runs fn for every site that has a token to migrate to, and joins the errors.
func eachMigrating(s *Stream, fn func(*Site) error) error {
	return each(s, func(site *Site) bool { return !site.AuthToken.IsZero() }, fn)
}

// eachFixing runs fn for every site whose register settings the patches fix: those migrating (a
// token given, or minted in the cluster by a Job: MintTokens), and those that need repair
// (Site.NeedsRepair).
func eachFixing(s *Stream, fn func(*Site) error) error {
	return each(s, func(site *Site) bool { return site.registers() || site.NeedsRepair() }, fn)
}

// registers reports whether the site will register with an authentication token runner-migrate
// provides: one it has, or one a Job mints.
func (site *Site) registers() bool { return !site.AuthToken.IsZero() || site.Mints() }

func each(s *Stream, pick func(*Site) bool, fn func(*Site) error) error {
	var errs []error
	for _, site := range s.Sites {
		if !pick(site) {
			continue
		}
		if err := fn(site); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
