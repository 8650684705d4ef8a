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

// Patches are the filters that migrate every site holding an AuthToken, in the order they must run.
var Patches = Pipeline{PatchTokenCarrier{}, PatchScripts{}, PatchEnv{}, RollPods{}}

// eachMigrating runs fn for every site that has a token to migrate to, and joins the errors.
func eachMigrating(s *Stream, fn func(*Site) error) error {
	var errs []error
	for _, site := range s.Sites {
		if site.AuthToken.IsZero() {
			continue
		}
		if err := fn(site); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// eachRegistering runs fn for every site that will register with an authentication token: those that
// have one, and those whose token a Job mints in the cluster (MintTokens).
func eachRegistering(s *Stream, fn func(*Site) error) error {
	var errs []error
	for _, site := range s.Sites {
		if site.AuthToken.IsZero() && !site.Mints() {
			continue
		}
		if err := fn(site); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
