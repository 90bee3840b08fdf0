package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custom-gpt-adapter/custom-gpt-adapter/domain/oauth"
)

// SessionStore keeps the browser sessions of signed-in end users. The cookie
// carries a random token; only its hash is stored.
type SessionStore struct{ pool *pgxpool.Pool }

func NewSessionStore(pool *pgxpool.Pool) *SessionStore { return &SessionStore{pool: pool} }

func (s *SessionStore) CreateSession(ctx context.Context, userID string, authTime time.Time) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	_, err := s.pool.Exec(ctx, `INSERT INTO custom_gpt_sessions (id_hash, user_id, auth_time, expires_at) VALUES ($1, $2, $3, $4)`,
		oauth.HashSecret(token), userID, authTime, authTime.Add(oauth.SessionLifetime))
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return token, nil
}

// Session answers oauth.ErrNotFound for an unknown or expired session, and for
// one whose user has been disabled since.
func (s *SessionStore) Session(ctx context.Context, token string) (oauth.Session, error) {
	var sess oauth.Session
	err := s.pool.QueryRow(ctx, `SELECT s.user_id, u.email, s.auth_time
		FROM custom_gpt_sessions s JOIN custom_gpt_users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > now() AND u.status = 'active'`, oauth.HashSecret(token)).
		Scan(&sess.UserID, &sess.Email, &sess.AuthTime)
	if errors.Is(err, pgx.ErrNoRows) {
		return oauth.Session{}, oauth.ErrNotFound
	}
	if err != nil {
		return oauth.Session{}, fmt.Errorf("session: %w", err)
	}
	sess.AuthTime = sess.AuthTime.UTC()
	return sess, nil
}

// EndSession deletes a session (sign-out); an unknown token is not an error.
func (s *SessionStore) EndSession(ctx context.Context, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM custom_gpt_sessions WHERE id_hash = $1`, oauth.HashSecret(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
