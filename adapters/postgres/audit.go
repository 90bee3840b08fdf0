package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/audit"
)

// AuditRepository reads the audit trail from custom_gpt_audit_entries.
type AuditRepository struct{ pool *pgxpool.Pool }

func NewAuditRepository(pool *pgxpool.Pool) *AuditRepository { return &AuditRepository{pool: pool} }

func (r *AuditRepository) List(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	order, after := "DESC", "<"
	if f.OldestFirst {
		order, after = "ASC", ">"
	}
	rows, err := r.pool.Query(ctx, `
		SELECT id, app_id, end_user, action, status, request_id, coalesce(operation_id, ''), detail, occurred_at, completed_at,
			correlation_id, channel, trace_id
		FROM custom_gpt_audit_entries
		WHERE ($1 = '' OR app_id = $1) AND ($2 = 0 OR id `+after+` $2)
			AND ($4 = '' OR end_user = $4) AND ($5 = '' OR action = $5) AND ($6 = '' OR status = $6)
			AND ($7::timestamptz IS NULL OR occurred_at >= $7) AND ($8::timestamptz IS NULL OR occurred_at < $8)
		ORDER BY id `+order+` LIMIT $3`, f.AppID, f.AfterID, f.Limit,
		f.EndUser, string(f.Action), string(f.Status), nullTime(f.Since), nullTime(f.Until))
	if unencodable(err) {
		return nil, nil // an app id Postgres cannot hold has no entries
	}
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var (
			e                  audit.Entry
			action, status     string
			occurred, complete pgtime
		)
		if err := rows.Scan(&e.ID, &e.AppID, &e.EndUser, &action, &status, &e.RequestID, &e.OperationID, &e.Detail, &occurred, &complete,
			&e.CorrelationID, &e.Channel, &e.TraceID); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		e.Action, e.Status, e.OccurredAt, e.CompletedAt = audit.Action(action), audit.Status(status), occurred.t(), complete.t()
		out = append(out, e)
	}
	if err := rows.Err(); unencodable(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// insertAudit writes one entry: insertAudits of one.
func insertAudit(ctx context.Context, tx pgx.Tx, e audit.Entry) error {
	return insertAudits(ctx, tx, []audit.Entry{e})
}

// insertAudits writes entries in one statement: a batch of reads' entries
// (TxGroup), of accepts', or of refusals (AuditBatcher), costs the database
// one insert, and in a pipeTx no round trip of its own (execLater).
func insertAudits(ctx context.Context, db execer, entries []audit.Entry) error {
	n := len(entries)
	var (
		apps, users, actions, statuses, requests, details, correlations, channels, traces = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n)
		ops       = make([]*string, n)
		occurred  = make([]time.Time, n)
		completed = make([]*time.Time, n)
	)
	for i, e := range entries {
		if e.OperationID != "" {
			ops[i] = &e.OperationID
		}
		if !e.CompletedAt.IsZero() {
			completed[i] = &e.CompletedAt
		}
		apps[i], users[i], actions[i], statuses[i], requests[i], details[i] = e.AppID, e.EndUser, string(e.Action),
			string(e.Status), e.RequestID, e.Detail
		occurred[i], correlations[i], channels[i], traces[i] = e.OccurredAt, e.CorrelationID, channelOf(e), e.TraceID
	}
	return execLater(ctx, db, "insert audit entries", `INSERT INTO custom_gpt_audit_entries
		(app_id, end_user, action, status, request_id, operation_id, detail, occurred_at, completed_at, correlation_id, channel, trace_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::text[])`,
		apps, users, actions, statuses, requests, ops, details, occurred, completed, correlations, channels, traces)
}

// completeAudit moves the operation's pending entry to its terminal status. The
// status guard makes a second completion a no-op instead of a second outcome.
func completeAudit(ctx context.Context, tx pgx.Tx, operationID string, status audit.Status, detail string, at time.Time) error {
	return execLater(ctx, tx, "complete audit entry", `UPDATE custom_gpt_audit_entries SET status = $2, detail = $3, completed_at = $4
		WHERE operation_id = $1 AND status = 'pending'`, operationID, string(status), truncate(detail, 1000), at)
}

// reopenAudit moves the operation's failed entry back to pending, so the
// replayed operation still ends with exactly one terminal entry.
func reopenAudit(ctx context.Context, tx pgx.Tx, operationID string) error {
	_, err := tx.Exec(ctx, `UPDATE custom_gpt_audit_entries SET status = 'pending', detail = '', completed_at = NULL
		WHERE operation_id = $1 AND status = 'failed'`, operationID)
	if err != nil {
		return fmt.Errorf("reopen audit entry: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// channelOf is the entry's channel as stored: the REST API unless it says
// otherwise (entries of the admin surface and older writers leave it empty).
func channelOf(e audit.Entry) string {
	if e.Channel == "" {
		return "api"
	}
	return e.Channel
}
