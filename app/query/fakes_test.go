package query_test

import (
	"cmp"
	"context"
	"encoding/hex"
	"slices"
	"sync"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/application"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/errs"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/memory"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/operation"
	"github.com/custom-gpt-adapter/custom-gpt-adapter/events"
)

type fakeSearchBank struct {
	mu        sync.Mutex
	hits      []memory.Hit
	err       error
	calls     int
	lastScope memory.Scope
	lastQuery memory.Query
}

func (b *fakeSearchBank) Search(_ context.Context, scope memory.Scope, q memory.Query) ([]memory.Hit, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	b.lastScope, b.lastQuery = scope, q
	if b.err != nil {
		return nil, b.err
	}
	return slices.Clone(b.hits), nil
}

type recorded struct {
	entry  audit.Entry
	event  *events.MemoriesSearched
	ctxErr error
}

type fakeRecorder struct {
	mu      sync.Mutex
	err     error
	records []recorded
}

func (r *fakeRecorder) RecordSearch(ctx context.Context, e audit.Entry, ev *events.MemoriesSearched) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.records = append(r.records, recorded{entry: e, event: ev, ctxErr: ctx.Err()})
	return nil
}

type fakeOps map[string]*operation.Operation

func (r fakeOps) Get(_ context.Context, id string) (*operation.Operation, error) {
	if op, ok := r[id]; ok {
		return op, nil
	}
	return nil, errs.NotFound("operation-not-found", "no such operation")
}

// fakeAuditRepo serves entries newest first, as the adapter does.
type fakeAuditRepo struct {
	mu      sync.Mutex
	entries []audit.Entry // any order
	err     error
	filters []audit.Filter
}

func (r *fakeAuditRepo) List(_ context.Context, f audit.Filter) ([]audit.Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filters = append(r.filters, f)
	if r.err != nil {
		return nil, r.err
	}
	var out []audit.Entry
	for _, e := range r.entries {
		if (f.AppID == "" || e.AppID == f.AppID) && (f.AfterID == 0 || e.ID < f.AfterID) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b audit.Entry) int { return cmp.Compare(b.ID, a.ID) })
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

type fakeKeyRepo struct {
	application.Repository // only ByKeyHash is used; anything else panics

	mu     sync.Mutex
	byHash map[string]*application.Application
	err    error
	calls  int
}

func (r *fakeKeyRepo) ByKeyHash(_ context.Context, h []byte) (*application.Application, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	if a, ok := r.byHash[hex.EncodeToString(h)]; ok {
		return a, nil
	}
	return nil, errs.NotFound("app-not-found", "no application holds this key")
}
