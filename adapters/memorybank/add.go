package memorybank

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

const (
	// findLimit bounds the memories one operation's tag may find: one per add
	// without inference, a handful with it.
	findLimit = 100
	// maxFindQuery bounds the content sent as the query of a find.
	maxFindQuery = 2000
)

// Add stores d in scope, tagged with operationID, and returns what it left:
// the memories now holding it (one when Infer is off; none, one or several
// with it), or the Memory Bank's id of an add it is still doing (the
// platform's asynchronous add). The scope always comes from the caller's
// authenticated identity, never from the request.
func (c *Client) Add(ctx context.Context, scope memory.Scope, d memory.Draft, operationID string) (memory.Added, error) {
	path, body := c.dialect.addRequest(scope, d, operationID, c.infer)
	var (
		added  memory.Added
		failed string
	)
	err := c.call(ctx, request{op: c.metrics.add, method: http.MethodPost, path: path, body: body, write: true,
		decode: func(b []byte) (err error) {
			added, failed, err = decodeAdded(b)
			return err
		}})
	if err != nil {
		return memory.Added{}, err
	}
	if failed != "" {
		return memory.Added{}, workLost(failed)
	}
	if added.Pending != "" && c.dialect.eventPath(added.Pending) == "" {
		return memory.Added{}, malformedError(http.StatusOK, fmt.Errorf("an asynchronous answer from a server that has no events"))
	}
	return added, nil
}

// AddStatus follows an add the Memory Bank is still doing (GET
// /v1/event/{id}/): Pending stays set while its event is PENDING or RUNNING.
// An event that FAILED, or that the Memory Bank no longer knows (404), is a
// transient error wrapping memory.ErrWorkLost.
func (c *Client) AddStatus(ctx context.Context, _ memory.Scope, pending string) (memory.Added, error) {
	path := c.dialect.eventPath(pending)
	if path == "" {
		return memory.Added{}, workLost("this Memory Bank has no events")
	}
	var (
		added  memory.Added
		failed string
	)
	err := c.call(ctx, request{op: c.metrics.event, method: http.MethodGet, path: path, byID: true,
		decode: func(b []byte) error {
			var ev struct {
				Status string          `json:"status"`
				Error  json.RawMessage `json:"error"`
			}
			if err := json.Unmarshal(b, &ev); err != nil {
				return err
			}
			switch strings.ToUpper(ev.Status) {
			case "PENDING", "RUNNING":
				added = memory.Added{Pending: pending}
				return nil
			case "SUCCEEDED":
				var err error
				added, failed, err = decodeAdded(b)
				added.Pending = ""
				return err
			case "FAILED":
				failed = "its add failed: " + boundReason(rawString(ev.Error))
				return nil
			}
			return fmt.Errorf("an event with status %q", boundReason(ev.Status))
		}})
	switch {
	case isNotFound(err):
		return memory.Added{}, workLost("it no longer knows the add")
	case err != nil:
		return memory.Added{}, err
	case failed != "":
		return memory.Added{}, workLost(failed)
	}
	return added, nil
}

func workLost(why string) error {
	return &memory.BankError{Transient: true, Reason: "the Memory Bank did not finish an add", Err: fmt.Errorf("%w: %s", memory.ErrWorkLost, why)}
}

// decodeAdded reads the answer of an add, or a finished add event: the
// results and their events (ADD, and on older servers UPDATE, DELETE, NONE),
// a PENDING status with the event to follow, or FAILED (failed says why).
func decodeAdded(b []byte) (added memory.Added, failed string, err error) {
	var envelope struct {
		Status  string `json:"status"`
		EventID string `json:"event_id"`
	}
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
		if err := json.Unmarshal(b, &envelope); err != nil {
			return memory.Added{}, "", err
		}
	}
	switch strings.ToUpper(envelope.Status) {
	case "PENDING", "RUNNING":
		if !isMemoryID(envelope.EventID) {
			return memory.Added{}, "", fmt.Errorf("a pending add without a usable event id")
		}
		return memory.Added{Pending: envelope.EventID}, "", nil
	case "FAILED":
		return memory.Added{}, "its add failed", nil
	}
	items, err := decodeItems(b)
	if err != nil {
		return memory.Added{}, "", err
	}
	var out memory.Added
	for _, it := range items {
		id := it.id()
		if !isMemoryID(id) {
			continue
		}
		switch strings.ToUpper(rawString(it.Event)) {
		case "", "ADD", "UPDATE":
			out.IDs = append(out.IDs, id)
		case "DELETE":
			out.Removed = append(out.Removed, id)
		}
	}
	return out, "", nil
}

// isMemoryID: mem0's ids (memories, events) are UUIDs; anything else in an
// answer is not one of them, and never reaches our registry.
func isMemoryID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) <= 36
}

// FindByOperation returns the ids of the memories of scope tagged with
// operationID, so that a redelivered command can tell what an earlier attempt
// already stored. It asks mem0 for that tag (a filtered search on the
// open-source server, a filtered list on the platform), never reads the whole
// scope, which mem0 caps at 20, 100 or 1000 memories.
func (c *Client) FindByOperation(ctx context.Context, scope memory.Scope, operationID, hint string) ([]string, error) {
	if operationID == "" {
		return nil, nil
	}
	method, path, body := c.dialect.findRequest(scope, operationID, hint)
	var ids []string
	err := c.call(ctx, request{op: c.metrics.find, method: method, path: path, body: body, decode: func(b []byte) error {
		items, err := decodeItems(b)
		if err != nil {
			return err
		}
		for _, it := range items {
			meta := it.metadata()
			if op, _ := meta[memory.TagOperationID].(string); op == operationID && isMemoryID(it.id()) && it.inScope(scope, meta) {
				ids = append(ids, it.id())
			}
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// findQuery is what a find searches with: the content the operation stored,
// cut to a length any embedder takes; the operation id when there is none.
func findQuery(hint, operationID string) string {
	if strings.TrimSpace(hint) == "" {
		return operationID
	}
	if utf8.RuneCountInString(hint) > maxFindQuery {
		hint = string([]rune(hint)[:maxFindQuery])
	}
	return hint
}

// Search returns at most q.Limit memories of scope relevant to q, in the server's order.
func (c *Client) Search(ctx context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error) {
	path, body := c.dialect.searchRequest(scope, q)
	var hits []memory.Hit
	err := c.call(ctx, request{op: c.metrics.search, method: http.MethodPost, path: path, body: body, decode: func(b []byte) error {
		items, err := decodeItems(b)
		if err != nil {
			return err
		}
		hits = make([]memory.Hit, 0, min(len(items), max(q.Limit, 0)))
		for _, it := range items {
			if q.Limit > 0 && len(hits) == q.Limit {
				break
			}
			meta := it.metadata()
			if it.id() != "" && it.inScope(scope, meta) {
				hits = append(hits, it.hit(meta))
			}
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return hits, nil
}
