package memorybank

import (
	"context"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
)

const (
	defaultListPageSize = 100
	// maxListPages bounds how many pages one listing reads: a server that kept
	// answering "next" would otherwise hold the call forever.
	maxListPages = 500
)

// List returns one page of the memories in scope, newest first. mem0 lists in an order
// of its own (and the open-source server in one answer), so the client reads the
// whole scope, sorts it and cuts the page itself; the cursor is a position in that order.
func (c *Client) List(ctx context.Context, scope memory.Scope, page memory.Page) (memory.RecordPage, error) {
	from, err := decodeCursor(page.Cursor)
	if err != nil {
		return memory.RecordPage{}, err
	}
	records, err := c.listAll(ctx, scope)
	if err != nil {
		return memory.RecordPage{}, err
	}
	slices.SortFunc(records, newestFirst)
	start := 0
	if from != nil {
		start = len(records)
		if i := slices.IndexFunc(records, from.after); i >= 0 {
			start = i
		}
	}
	end := min(start+page.Size(), len(records))
	out := memory.RecordPage{Records: records[start:end:end]}
	if end < len(records) {
		out.NextCursor = encodeCursor(records[end-1])
	}
	return out, nil
}

// listAll reads every memory of scope, following the pages of a paging dialect until
// the server says there are no more, or a page brings nothing new.
func (c *Client) listAll(ctx context.Context, scope memory.Scope) ([]memory.Record, error) {
	var records []memory.Record
	seen := make(map[string]bool)
	for page := 1; ; page++ {
		if page > maxListPages {
			return nil, &memory.BankError{Reason: "too many memories to list"}
		}
		var (
			more        *bool
			count, news int
		)
		err := c.call(ctx, request{
			op: c.metrics.list, method: http.MethodGet, path: c.dialect.listPath(scope, page, c.listPageSize),
			decode: func(b []byte) error {
				items, m, err := decodeListPage(b)
				if err != nil {
					return err
				}
				more, count = m, len(items)
				for _, it := range items {
					r := it.record()
					if r.ID == "" || seen[r.ID] {
						continue
					}
					seen[r.ID] = true
					news++
					if it.inScope(scope, r.Metadata) {
						records = append(records, r)
					}
				}
				return nil
			},
		})
		if err != nil {
			return nil, err
		}
		switch {
		case !c.dialect.listsInPages(), news == 0:
			return records, nil
		case more != nil && !*more:
			return records, nil
		case more == nil && count < c.listPageSize:
			return records, nil
		}
	}
}

// Get returns the memory id of scope. A memory that is missing and one of another
// scope are the same errs.NotFound, so that its existence is never revealed.
func (c *Client) Get(ctx context.Context, scope memory.Scope, id string) (memory.Record, error) {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return memory.Record{}, err
	}
	return it.record(), nil
}

// Update replaces the content of the memory id of scope, once it is known to be scope's.
func (c *Client) Update(ctx context.Context, scope memory.Scope, id, content string) error {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{
		op: c.metrics.update, method: http.MethodPut, path: c.dialect.memoryPath(it.id()),
		body: c.dialect.updateBody(content, it.metadata()), byID: true,
	})
}

// Delete removes the memory id of scope, once it is known to be scope's.
func (c *Client) Delete(ctx context.Context, scope memory.Scope, id string) error {
	it, err := c.owned(ctx, scope, id)
	if err != nil {
		return err
	}
	return c.call(ctx, request{op: c.metrics.delete, method: http.MethodDelete, path: c.dialect.memoryPath(it.id()), byID: true})
}

// DeleteAll forgets every memory of scope and returns how many there were. mem0 does
// not say how many it deleted, so the scope is listed first; a memory added between
// the listing and the deletion is deleted without being counted.
func (c *Client) DeleteAll(ctx context.Context, scope memory.Scope) (int, error) {
	records, err := c.listAll(ctx, scope)
	if err != nil {
		return 0, err
	}
	err = c.call(ctx, request{op: c.metrics.deleteAll, method: http.MethodDelete, path: c.dialect.deleteAllPath(scope)})
	if err != nil {
		return 0, err
	}
	return len(records), nil
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
			if !ok || it.id() != id || !it.ownedBy(scope, it.metadata()) {
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
