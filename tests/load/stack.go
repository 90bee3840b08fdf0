package main

import (
	"errors"
	"fmt"
	"io"
)

// stack holds what a run started, to be stopped in reverse order whatever
// ends the run: success, a failure or Ctrl-C.
type stack struct {
	log   io.Writer
	stops []namedStop
}

type namedStop struct {
	name string
	stop func() error
}

func (s *stack) push(name string, stop func() error) {
	s.stops = append(s.stops, namedStop{name, stop})
}

// unwind stops everything, the last started first, without giving up on the
// rest when one fails, and returns what failed: a process that did not stop
// cleanly is a finding too.
func (s *stack) unwind() error {
	var errs []error
	for i := len(s.stops) - 1; i >= 0; i-- {
		if err := s.stops[i].stop(); err != nil {
			fmt.Fprintf(s.log, "load: stopping %s: %v\n", s.stops[i].name, err)
			errs = append(errs, fmt.Errorf("stopping %s: %w", s.stops[i].name, err))
		}
	}
	s.stops = nil
	return errors.Join(errs...)
}
