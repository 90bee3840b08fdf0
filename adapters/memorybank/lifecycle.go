package memorybank

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

// getManyConcurrency bounds the reads one GetMany sends at once to a server
// that reads one memory per request.
const getManyConcurrency = 8

// Get returns the memory id of scope. A memory that is missing and one of another
// scope are the same errs.NotFound, so that its existence is never revealed.
func (c *Client) Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error) {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return memory.Record{}, err
	}
	return it.record(), nil
}

// GetMany returns the memories of ids that scope still holds, in the order of
// ids, leaving out the missing ones: one page of the platform's list, or one
// read per id (a few at a time) on the open-source server.
func (c *Client) GetMany(ctx context.Context, scope memory.Scope, ids []string) ([]memory.Record, error) {
	if len(ids) == 0 {
		return []memory.Record{}, nil
	}
	found := make(map[string]memory.Record, len(ids))
	if method, path, body, ok := c.dialect.getManyRequest(scope, ids); ok {
		err := c.call(ctx, request{op: c.metrics.get, method: method, path: path, body: body, decode: func(b []byte) error {
			items, err := decodeItems(b)
			if err != nil {
				return err
			}
			for _, it := range items {
				if c.dialect.ownedBy(it, scope) && it.inScope(scope, it.metadata()) {
					found[it.id()] = it.record()
				}
			}
			return nil
		}})
		if err != nil {
			return nil, err
		}
	} else if err := c.getEach(ctx, scope, ids, found); err != nil {
		return nil, err
	}
	out := make([]memory.Record, 0, len(ids))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *Client) getEach(ctx context.Context, scope memory.Scope, ids []string, found map[string]memory.Record) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	slots := make(chan struct{}, getManyConcurrency)
	for _, id := range ids {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			r, err := c.Get(ctx, scope, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				found[id] = r
			case isNotFound(err):
			case firstErr == nil:
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// Update replaces the content of the memory id of scope, once it is known to be scope's.
func (c *Client) Update(ctx context.Context, scope memory.Scope, id, content string) error {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{
		op: c.metrics.update, method: http.MethodPut, path: c.dialect.memoryPath(it.id()),
		body: c.dialect.updateBody(content, it.metadata()), byID: true, write: true,
	})
}

// Delete removes the memory id of scope, once it is known to be scope's.
func (c *Client) Delete(ctx context.Context, scope memory.Scope, id string) error {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{op: c.metrics.delete, method: http.MethodDelete, path: c.dialect.memoryPath(it.id()), byID: true, write: true})
}

// DeleteAll asks the Memory Bank to delete every memory of scope in one call.
// The open-source server keeps this to its admin key: another key gets a 403,
// a permanent error (the caller deletes by id). async says the Memory Bank may
// still be deleting (the platform's "Delete in progress"). Neither flavor says
// how many it deleted, and servers before mem0's #6636 stop at 100 while
// answering success: only Held tells that the scope is empty.
func (c *Client) DeleteAll(ctx context.Context, scope memory.Scope) (bool, error) {
	path, async := c.dialect.deleteAllRequest(scope)
	err := c.call(ctx, request{op: c.metrics.deleteAll, method: http.MethodDelete, path: path, write: true})
	return async, err
}

// Held returns memories the Memory Bank holds in scope now: at most 1000 on
// the open-source server and one page of 200 on the platform, in an order of
// mem0's own; none means the scope is empty. complete says they are all the
// scope holds: the platform said no page follows, or the open-source server
// listed fewer than it lists at most.
func (c *Client) Held(ctx context.Context, scope memory.Scope) (records []memory.Record, complete bool, err error) {
	method, path, body := c.dialect.heldRequest(scope)
	err = c.call(ctx, request{op: c.metrics.held, method: method, path: path, body: body, decode: func(b []byte) error {
		items, err := decodeItems(b)
		if err != nil {
			return err
		}
		for _, it := range items {
			if isMemoryID(it.id()) && c.dialect.ownedBy(it, scope) && it.inScope(scope, it.metadata()) {
				records = append(records, it.record())
			}
		}
		complete = len(items) < ossListLimit
		var envelope struct {
			Next *json.RawMessage `json:"next"`
		}
		if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &envelope) == nil && envelope.Next != nil {
			complete = rawString(*envelope.Next) == ""
		}
		return nil
	}})
	if err != nil {
		return nil, false, err
	}
	return records, complete, nil
}

// History returns the changes of the memory id of scope, oldest first.
func (c *Client) History(ctx context.Context, scope memory.Scope, id string) ([]memory.Change, error) {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	var changes []memory.Change
	err = c.call(ctx, request{
		op: c.metrics.history, method: http.MethodGet, path: c.dialect.historyPath(it.id()), byID: true,
		decode: func(b []byte) (err error) {
			changes, err = decodeChanges(b, it.id())
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// owned gets the memory id and checks that it is scope's. mem0 enforces no isolation:
// any id is readable by anyone, so the answer itself must name scope.
func (c *Client) owned(ctx context.Context, scope memory.Scope, id string) (wireItem, error) {
	// mem0 ids are UUIDs; anything else names no memory, and is not worth a request.
	u, err := uuid.Parse(id)
	if err != nil {
		return wireItem{}, notFoundError(nil)
	}
	id = u.String()
	var found wireItem
	err = c.call(ctx, request{
		op: c.metrics.get, method: http.MethodGet, path: c.dialect.memoryPath(id), byID: true,
		decode: func(b []byte) error {
			it, ok, err := decodeItem(b)
			if err != nil {
				return err
			}
			if !ok || it.id() != id || !c.dialect.ownedBy(it, scope) || !it.inScope(scope, it.metadata()) {
				return notFoundError(nil)
			}
			found = it
			return nil
		},
	})
	if err != nil {
		return wireItem{}, err
	}
	return found, nil
}

func isNotFound(err error) bool { return err != nil && errs.KindOf(err) == errs.KindNotFound }
