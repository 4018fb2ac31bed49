package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Scopes, weakest first: each scope allows what the ones before it allow.
var Scopes = []string{"read", "submit", "scan", "admin"}

// Allows reports whether a token of scope have may do what need requires.
func Allows(have, need string) bool {
	h, n := slices.Index(Scopes, have), slices.Index(Scopes, need)
	return h >= 0 && n >= 0 && h >= n
}

// tokenPrefix marks dockaudit tokens, so secret scanners and people recognise them.
const tokenPrefix = "dat_"

// Token is a stored token, without its secret.
type Token struct {
	ID        int64      `json:"id"`
	Scope     string     `json:"scope"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// CreateToken makes a token of the scope and returns it; only its hash is stored, so
// this is the one time it can be shown.
func (s *Store) CreateToken(ctx context.Context, scope, name string) (string, Token, error) {
	if !slices.Contains(Scopes, scope) {
		return "", Token{}, fmt.Errorf("unknown scope %q: use one of %s", scope, strings.Join(Scopes, ", "))
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, err
	}
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t := Token{Scope: scope, Name: name}
	err := s.Pool.QueryRow(ctx, "INSERT INTO tokens (hash, scope, name) VALUES ($1, $2, $3) RETURNING id, created_at",
		hashToken(tok), scope, name).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return "", Token{}, err
	}
	return tok, t, nil
}

// ErrBadToken is a token that is unknown or revoked.
var ErrBadToken = errors.New("unknown or revoked token")

// Authenticate returns the scope of a valid token.
func (s *Store) Authenticate(ctx context.Context, tok string) (Token, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 200 {
		return Token{}, ErrBadToken
	}
	var t Token
	err := s.Pool.QueryRow(ctx, "SELECT id, scope, name, created_at FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
		hashToken(tok)).Scan(&t.ID, &t.Scope, &t.Name, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, ErrBadToken
	}
	return t, err
}

// RevokeToken revokes a token by id; revoking twice is not an error, an unknown id is.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	tag, err := s.Pool.Exec(ctx, "UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", id)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("no token %d", id)
	}
	return nil
}

// Tokens lists every token, newest first, without secrets.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.Pool.Query(ctx, "SELECT id, scope, name, created_at, revoked_at FROM tokens ORDER BY id DESC")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		err := r.Scan(&t.ID, &t.Scope, &t.Name, &t.CreatedAt, &t.RevokedAt)
		return t, err
	})
}
