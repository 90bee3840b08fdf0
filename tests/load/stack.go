package main

import (
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

// unwind stops everything, the last started first, and reports what would
// not stop without giving up on the rest.
func (s *stack) unwind() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		if err := s.stops[i].stop(); err != nil {
			fmt.Fprintf(s.log, "load: stopping %s: %v\n", s.stops[i].name, err)
		}
	}
	s.stops = nil
}
