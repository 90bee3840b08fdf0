package http

import (
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/export"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/ports/internal/request"
)

// exportDocument documents the streamed answer; it is written piece by piece.
type exportDocument struct {
	AppID      string          `json:"app_id" example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	EndUser    string          `json:"end_user,omitempty" doc:"The end user whose memory space this is; absent for an API key's." example:"0193a6f0-1111-7b3a-9f51-2c4d5e6f7a8b"`
	ExportedAt time.Time       `json:"exported_at" example:"2026-11-26T12:00:00Z"`
	Memories   []export.Memory `json:"memories" doc:"Every memory, newest first."`
	Complete   bool            `json:"complete" doc:"False when the export broke off (the Memory Bank failed): then error says why and the list is partial." example:"true"`
	Error      string          `json:"error,omitempty" doc:"Why an incomplete export stopped." example:""`
}

// exportHead is what an export says before its memories.
type exportHead struct {
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	ExportedAt time.Time `json:"exported_at"`
}

// exportWriteWindow is how long each piece of an export may take to write:
// the whole may take far longer than the server's write timeout.
const exportWriteWindow = time.Minute

// exportMemories streams every memory of the caller's memory space, with its
// history, as one JSON document. A failure before the first memory is a
// problem answer; after it, the document ends with complete: false and the
// reason, so it stays valid JSON and says it is partial.
func (s *Server) exportMemories(w http.ResponseWriter, r *http.Request) {
	caller := request.Caller(r.Context())
	exp, err := s.app.Queries.ExportMemories.Handle(r.Context(), query.ExportMemories{
		AppID: caller.AppID, EndUser: caller.EndUser, RequestID: request.ID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	next, stop := iter.Pull2(exp.Memories)
	defer stop()
	first, err, more := next()
	if err != nil {
		writeError(w, r, err)
		return
	}
	rest := func(yield func(query.ExportedMemory, error) bool) {
		for item, err, ok := first, error(nil), more; ok; item, err, ok = next() {
			if !yield(item, err) {
				return
			}
		}
	}

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="memories.json"`)
	w.WriteHeader(http.StatusOK)
	out := deadlineWriter{w: w, rc: rc}
	head, _ := json.Marshal(exportHead{AppID: caller.AppID, EndUser: caller.EndUser, ExportedAt: time.Now().UTC()})
	// The head's closing brace gives way to the list, written as it is read.
	if _, err := out.Write(append(head[:len(head)-1], `,"memories":`...)); err != nil {
		return
	}
	broke, err := export.Memories(out, rest, func() { _ = rc.Flush() })
	if err != nil {
		return
	}
	_, _ = out.Write(export.Tail(broke))
}

// deadlineWriter gives each write of a long answer its own deadline.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d deadlineWriter) Write(b []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
	return d.w.Write(b)
}
