// Package export writes exports of memories as JSON documents, streamed as
// the memories are read, for every port that hands one out: the API, the
// account page and the command line.
package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/app/query"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// Change is one change of an exported memory.
type Change struct {
	ChangeID   string     `json:"change_id" example:"7c1e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Event      string     `json:"event" enum:"ADD,UPDATE,DELETE" example:"UPDATE"`
	OldContent string     `json:"old_content" example:"The user prefers window seats"`
	NewContent string     `json:"new_content" example:"The user prefers aisle seats"`
	CreatedAt  *time.Time `json:"created_at" nullable:"true" example:"2026-11-26T11:00:00Z"`
}

// Memory is one memory of an export, whole: an export is a download, not an
// answer for a model, so nothing is cut.
type Memory struct {
	MemoryID  string         `json:"memory_id" example:"5b7e2a1c-3d4f-4e5a-8b9c-0d1e2f3a4b5c"`
	Content   string         `json:"content" example:"The user prefers aisle seats on long flights"`
	Metadata  map[string]any `json:"metadata" example:"{\"topic\":\"travel\"}"`
	CreatedAt *time.Time     `json:"created_at" nullable:"true" example:"2026-11-26T10:00:00Z"`
	UpdatedAt *time.Time     `json:"updated_at,omitempty" example:"2026-11-26T11:00:00Z"`
	History   []Change       `json:"history" doc:"The memory's changes, oldest first."`
}

func toMemory(m query.ExportedMemory) Memory {
	out := Memory{
		MemoryID: m.Record.ID, Content: m.Record.Content, Metadata: memory.PublicMetadata(m.Record.Metadata),
		CreatedAt: timeOrNil(m.Record.CreatedAt), UpdatedAt: timeOrNil(m.Record.UpdatedAt),
		History: make([]Change, 0, len(m.History)),
	}
	for _, c := range m.History {
		out.History = append(out.History, Change{
			ChangeID: c.ID, Event: c.Event, OldContent: c.OldContent, NewContent: c.NewContent, CreatedAt: timeOrNil(c.CreatedAt),
		})
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Memories writes memories to w as a JSON array, each as it is read, calling
// flush (when set) every 100. It returns the error that broke the memories off
// (the array is closed all the same) and, apart, a failure to write.
func Memories(w io.Writer, memories iter.Seq2[query.ExportedMemory, error], flush func()) (broke, writeErr error) {
	if _, err := io.WriteString(w, "["); err != nil {
		return nil, err
	}
	n := 0
	for m, err := range memories {
		if err != nil {
			broke = err
			break
		}
		item, _ := json.Marshal(toMemory(m))
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

// Tail ends an export's JSON object: complete, or not and why.
func Tail(broke error) []byte {
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

// Queries are the reads a user's export makes.
type Queries struct {
	Spaces  query.MemorySpacesOfUserHandler
	Exports query.ExportMemoriesHandler
}

// User writes every memory an end user stored, in every application, with its
// history, as one JSON document: {"user_id","email","exported_at",
// "applications":[{"app_id","memories":[…],"complete"}],"complete"}. Each
// memory space read is audited as an export. complete is false when the
// Memory Bank broke one off; err is a failure to start or to write.
func User(ctx context.Context, w io.Writer, q Queries, userID, email, requestID string) (complete bool, err error) {
	apps, err := q.Spaces.Handle(ctx, query.MemorySpacesOfUser{EndUser: userID})
	if err != nil {
		return false, err
	}
	head, _ := json.Marshal(struct {
		UserID     string    `json:"user_id"`
		Email      string    `json:"email"`
		ExportedAt time.Time `json:"exported_at"`
	}{userID, email, time.Now().UTC()})
	if _, err := w.Write(append(head[:len(head)-1], `,"applications":[`...)); err != nil {
		return false, err
	}
	complete = true
	for i, appID := range apps {
		exp, err := q.Exports.Handle(ctx, query.ExportMemories{AppID: appID, EndUser: userID, RequestID: requestID})
		if err != nil {
			return false, err
		}
		sep := ""
		if i > 0 {
			sep = ","
		}
		id, _ := json.Marshal(appID)
		if _, err := fmt.Fprintf(w, `%s{"app_id":%s,"memories":`, sep, id); err != nil {
			return false, err
		}
		broke, err := Memories(w, exp.Memories, nil)
		if err != nil {
			return false, err
		}
		complete = complete && broke == nil
		if _, err := w.Write(Tail(broke)); err != nil {
			return false, err
		}
	}
	_, err = fmt.Fprintf(w, `],"complete":%t}`+"\n", complete)
	return complete, err
}
