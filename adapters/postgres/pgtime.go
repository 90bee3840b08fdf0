package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgtime scans a nullable timestamptz into a time that is zero when NULL.
type pgtime struct{ pgtype.Timestamptz }

func (p pgtime) t() time.Time {
	if !p.Valid {
		return time.Time{}
	}
	return p.Time.UTC()
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}
