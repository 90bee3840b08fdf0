package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// The audit chain's links are written by triggers (migration 00020); these
// read them back for `audit verify` (query.AuditChains).

// ChainApps lists every application with a chain or an audit entry.
func (r *AuditRepository) ChainApps(ctx context.Context) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT app_id FROM custom_gpt_audit_chain_heads
		UNION SELECT DISTINCT app_id FROM custom_gpt_audit_entries ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list audited apps: %w", err)
	}
	apps, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list audited apps: %w", err)
	}
	return apps, nil
}

// WalkChain calls fn with each link of the application's chains, lane by
// lane and in order, the entry it names as it is now (nil when it is gone)
// and whether it is that entry's latest link; it stops at fn's first error.
// It returns the chains' heads.
func (r *AuditRepository) WalkChain(ctx context.Context, appID string, fn func(l audit.Link, current *audit.Entry, latest bool) error) ([]audit.Head, error) {
	rows, err := r.pool.Query(ctx, `SELECT lane, seq, hash FROM custom_gpt_audit_chain_heads WHERE app_id = $1 ORDER BY lane`, appID)
	if err != nil {
		return nil, fmt.Errorf("read the audit chains' heads: %w", err)
	}
	heads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Head, error) {
		var h audit.Head
		return h, row.Scan(&h.Lane, &h.Seq, &h.Hash)
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit chains' heads: %w", err)
	}
	rows, err = r.pool.Query(ctx, `
		SELECT c.lane, c.seq, c.entry_id, c.content_hash, c.hash,
			c.id = max(c.id) OVER (PARTITION BY c.entry_id),
			e.id IS NOT NULL, coalesce(e.app_id, ''), coalesce(e.end_user, ''), coalesce(e.action, ''), coalesce(e.status, ''),
			coalesce(e.request_id, ''), coalesce(e.operation_id, ''), coalesce(e.detail, ''), e.occurred_at, e.completed_at,
			coalesce(e.correlation_id, ''), coalesce(e.channel, ''), coalesce(e.trace_id, '')
		FROM custom_gpt_audit_chain c LEFT JOIN custom_gpt_audit_entries e ON e.id = c.entry_id
		WHERE c.app_id = $1
		ORDER BY c.lane, c.seq`, appID)
	if err != nil {
		return heads, fmt.Errorf("read the audit chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			l                  audit.Link
			latest, exists     bool
			e                  audit.Entry
			action, status     string
			occurred, complete pgtime
		)
		if err := rows.Scan(&l.Lane, &l.Seq, &l.EntryID, &l.ContentHash, &l.Hash, &latest, &exists, &e.AppID, &e.EndUser, &action, &status,
			&e.RequestID, &e.OperationID, &e.Detail, &occurred, &complete, &e.CorrelationID, &e.Channel, &e.TraceID); err != nil {
			return heads, fmt.Errorf("read the audit chain: %w", err)
		}
		var current *audit.Entry
		if exists {
			e.ID, e.Action, e.Status, e.OccurredAt, e.CompletedAt = l.EntryID, audit.Action(action), audit.Status(status), occurred.t(), complete.t()
			current = &e
		}
		if err := fn(l, current, latest); err != nil {
			return heads, err
		}
	}
	if err := rows.Err(); err != nil {
		return heads, fmt.Errorf("read the audit chain: %w", err)
	}
	return heads, nil
}

// FirstUnchained is the application's first entry in a terminal status that no
// link names: one written, or ended, with the chain's triggers off.
func (r *AuditRepository) FirstUnchained(ctx context.Context, appID string) (int64, bool, error) {
	var id int64
	err := r.pool.QueryRow(ctx, `SELECT e.id FROM custom_gpt_audit_entries e
		WHERE e.app_id = $1 AND e.status <> 'pending'
			AND NOT EXISTS (SELECT 1 FROM custom_gpt_audit_chain c WHERE c.entry_id = e.id)
		ORDER BY e.id LIMIT 1`, appID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("look for unchained audit entries: %w", err)
	}
	return id, true, nil
}
