package http

import (
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
)

// exportedMemory is one memory of an export, whole: an export is a download,
// not an answer for the model, so nothing is cut.
type exportedMemory struct {
	MemoryID  string         `json:"memory_id" example:"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Content   string         `json:"content" example:"The user prefers aisle seats on long flights"`
	Metadata  map[string]any `json:"metadata" example:"{\"topic\":\"travel\"}"`
	CreatedAt *time.Time     `json:"created_at" nullable:"true" example:"2026-11-26T10:00:00Z"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty" example:"2026-11-26T11:00:00Z"`
	History   []memoryChange `json:"history" doc:"The memory's changes, oldest first."`
}

// exportDocument documents the streamed answer; it is written piece by piece.
type exportDocument struct {
	AppID      string           `json:"app_id" example:"0193a6f0-7c1e-7b3a-9f51-2c4d5e6f7a8b"`
	EndUser    string           `json:"end_user,omitempty" doc:"The end user whose memory space this is; absent for an API key's." example:"0193a6f0-1111-7b3a-9f51-2c4d5e6f7a8b"`
	ExportedAt time.Time        `json:"exported_at" example:"2026-11-26T12:00:00Z"`
	Memories   []exportedMemory `json:"memories" doc:"Every memory, newest first."`
	Complete   bool             `json:"complete" doc:"False when the export broke off (the Memory Bank failed): then error says why and the list is partial." example:"true"`
	Error      string           `json:"error,omitempty" doc:"Why an incomplete export stopped." example:""`
}

// exportHead is what an export says before its memories.
type exportHead struct {
	AppID      string    `json:"app_id"`
	EndUser    string    `json:"end_user,omitempty"`
	ExportedAt time.Time `json:"exported_at"`
}

func toExported(m query.ExportedMemory) exportedMemory {
	out := exportedMemory{
		MemoryID: m.Record.ID, Content: m.Record.Content, Metadata: publicMetadata(m.Record.Metadata),
		CreatedAt: timeOrNil(m.Record.CreatedAt), UpdatedAt: timeOrNil(m.Record.UpdatedAt),
		History: make([]memoryChange, 0, len(m.History)),
	}
	for _, c := range m.History {
		out.History = append(out.History, memoryChange{
			ChangeID: c.ID, Event: c.Event, OldContent: c.OldContent, NewContent: c.NewContent, CreatedAt: timeOrNil(c.CreatedAt),
		})
	}
	return out
}

// exportWriteWindow is how long each piece of an export may take to write:
// the whole may take far longer than the server's write timeout.
const exportWriteWindow = time.Minute

// exportMemories streams every memory of the caller's memory space, with its
// history, as one JSON document. A failure before the first memory is a
// problem answer; after it, the document ends with complete: false and the
// reason, so it stays valid JSON and says it is partial.
func (s *Server) exportMemories(w http.ResponseWriter, r *http.Request) {
	caller := callerFrom(r.Context())
	export, err := s.app.Queries.ExportMemories.Handle(r.Context(), query.ExportMemories{
		AppID: caller.AppID, EndUser: caller.EndUser, RequestID: requestID(r.Context()),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	next, stop := iter.Pull2(export.Memories)
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
	broke, err := WriteExportedMemories(out, rest, func() { _ = rc.Flush() })
	if err != nil {
		return
	}
	_, _ = out.Write(ExportTail(broke))
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

// WriteExportedMemories writes memories to w as a JSON array, each as it is
// read, calling flush every 100. It returns the error that broke the
// memories off (the array is closed all the same) and, apart, a failure to
// write.
func WriteExportedMemories(w io.Writer, memories iter.Seq2[query.ExportedMemory, error], flush func()) (broke, writeErr error) {
	if _, err := io.WriteString(w, "["); err != nil {
		return nil, err
	}
	n := 0
	for m, err := range memories {
		if err != nil {
			broke = err
			break
		}
		item, _ := json.Marshal(toExported(m))
		if n > 0 {
			item = append([]byte{','}, item...)
		}
		if _, err := w.Write(item); err != nil {
			return nil, err
		}
		if n++; n%100 == 0 && flush != nil {
			flush()
		}
	}
	_, err := io.WriteString(w, "]")
	return broke, err
}

// ExportTail ends an export's JSON object: complete, or not and why.
func ExportTail(broke error) []byte {
	if broke == nil {
		return []byte(`,"complete":true}`)
	}
	detail := "an internal error"
	var e *errs.Error
	if errors.As(broke, &e) {
		detail = e.Detail
	}
	reason, _ := json.Marshal("the export broke off: " + detail + "; export again to get the rest")
	return []byte(`,"complete":false,"error":` + string(reason) + `}`)
}
