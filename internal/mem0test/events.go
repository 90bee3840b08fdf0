package mem0test

import (
	"net/http"
	"time"

	"github.com/google/uuid"
)

// event is a platform event: the asynchronous processing of an add or a delete by
// filter, polled with GET /v1/event/{event_id}/ (docs/openapi.json, event_read;
// docs/migration/platform-v2-to-v3.mdx: "Poll status ... SUCCEEDED or FAILED").
type event struct {
	id, kind, status   string
	payload            any
	results            []any
	errMsg             *string
	created, updated   time.Time
	started, completed *time.Time
}

const (
	eventPending   = "PENDING"
	eventRunning   = "RUNNING"
	eventSucceeded = "SUCCEEDED"
	eventFailed    = "FAILED"
)

// newEvent registers an event. Expects s.mu held.
func (s *Server) newEvent(kind string, payload any) *event {
	now := time.Now()
	ev := &event{id: uuid.NewString(), kind: kind, status: eventPending, payload: payload, created: now, updated: now}
	s.events[ev.id] = ev
	return ev
}

// completeEvent marks ev done with results. Expects s.mu held.
func completeEvent(ev *event, results []any) {
	now := time.Now()
	if ev.started == nil {
		ev.started = &now
	}
	ev.status, ev.results, ev.completed, ev.updated = eventSucceeded, results, &now, now
}

// runEvent processes ev in the background: PENDING for the event delay, RUNNING for as
// long again, then work runs under s.mu and the event SUCCEEDS with its results, or
// FAILS having done nothing when FailNextEvents asked for it. An add's completion runs
// the AfterAdd hook.
func (s *Server) runEvent(ev *event, work func() []any, isAdd bool) {
	s.mu.Lock()
	delay := s.eventDelay
	s.mu.Unlock()
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		if !s.sleep(delay) {
			return
		}
		s.mu.Lock()
		now := time.Now()
		ev.status, ev.started, ev.updated = eventRunning, &now, now
		s.mu.Unlock()
		if !s.sleep(delay) {
			return
		}
		s.mu.Lock()
		var results []any
		if s.failEvents > 0 {
			s.failEvents--
			now := time.Now()
			ev.status, ev.errMsg, ev.results, ev.completed, ev.updated = eventFailed, ptr("mem0test: injected event failure"), []any{}, &now, now
		} else {
			results = work()
			completeEvent(ev, results)
		}
		s.mu.Unlock()
		if isAdd && len(results) > 0 {
			s.runAfterAdd()
		}
	}()
}

// sleep waits d, or returns false when the test has ended.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// platformEvent is GET /v1/event/{event_id}/.
func (s *Server) platformEvent(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.events[r.PathValue("event_id")]
	if ev == nil {
		s.writeError(w, http.StatusNotFound, "Event not found or you don't have permission to access it.")
		return
	}
	results := ev.results
	if results == nil {
		results = []any{}
	}
	out := map[string]any{
		"id": ev.id, "event_type": ev.kind, "status": ev.status, "payload": ev.payload, "metadata": nil,
		"results": results, "created_at": platformTime(ev.created), "updated_at": platformTime(ev.updated),
		"error": ev.errMsg,
	}
	// The document gives started_at, completed_at and latency as non-null: they are
	// left out until they have a value.
	if ev.started != nil {
		out["started_at"] = platformTime(*ev.started)
	}
	if ev.completed != nil {
		out["completed_at"] = platformTime(*ev.completed)
		out["latency"] = float64(ev.completed.Sub(ev.created).Microseconds()) / 1000
	}
	s.writeJSON(w, http.StatusOK, out)
}
